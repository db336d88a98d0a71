// SPDX-License-Identifier: GPL-2.0-only
// speedscope.mjs - load profile files in speedscope (served from its npm
// package) in headless Chromium and fail on an import error; a screenshot of
// each goes beside the file.
//
//	node speedscope.mjs SPEEDSCOPE_RELEASE_DIR FILE...
//
// Needs playwright-core (npm) and Chromium (Debian's chromium package).
import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const [release, ...files] = process.argv.slice(2);
if (!release || !files.length) {
	console.error('usage: node speedscope.mjs SPEEDSCOPE_RELEASE_DIR FILE...');
	process.exit(2);
}

// one local server for speedscope's files and the profiles
const served = new Map(files.map((f, i) => [`/profile${i}${path.extname(f)}`, path.resolve(f)]));
const server = http.createServer((req, res) => {
	const url = decodeURIComponent(req.url.split('?')[0].split('#')[0]);
	const file = served.get(url) || path.join(release, url === '/' ? 'index.html' : url);
	if (!file.startsWith(release) && !served.has(url)) {
		res.writeHead(403).end();
		return;
	}
	fs.readFile(file, (err, data) => {
		if (err) {
			res.writeHead(404).end();
			return;
		}
		const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
			'.json': 'application/json', '.wasm': 'application/wasm' };
		res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
		res.end(data);
	});
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const port = server.address().port;
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox', '--headless=new'],
});
let failed = 0;
let n = 0;
for (const [url, file] of served) {
	const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	// speedscope imports slices that do not nest with a warning, and draws them
	// wrong (an end matched by name alone, its args aside, is fine)
	page.on('console', (m) => {
		if (/Doing nothing instead|Tried to leave|was still open/.test(m.text()))
			errors.push(m.text());
	});
	await page.goto(`http://127.0.0.1:${port}/#profileURL=${encodeURIComponent(`http://127.0.0.1:${port}${url}`)}`);
	// loaded: the flame chart canvas is drawn and no error message is shown
	let text = '';
	for (let i = 0; i < 100; i++) {
		text = await page.evaluate(() => document.body.innerText);
		if (/Something went wrong|Unrecognized format|Failed to/i.test(text)) break;
		if (await page.$('canvas') && !/Loading/i.test(text)) break;
		await page.waitForTimeout(100);
	}
	const bad = /Something went wrong|Unrecognized format|Failed to/i.test(text) || !(await page.$('canvas'));
	await page.screenshot({ path: `${file}.png` });
	n++;
	console.log(`${bad || errors.length ? 'not ok' : 'ok'} ${n} - speedscope opens ${path.basename(file)}` +
		(bad ? ` (page says: ${text.slice(0, 200).replace(/\n/g, ' ')})` : '') +
		(errors.length ? ` (errors: ${errors.join('; ').slice(0, 200)})` : ''));
	if (bad || errors.length) failed++;
	await page.close();
}
console.log(`1..${n}`);
await browser.close();
server.close();
process.exit(failed ? 1 : 0);
