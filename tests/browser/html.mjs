// SPDX-License-Identifier: GPL-2.0-only
// html.mjs - open -f html pages in headless Chromium, offline, and use them
// as a reader would: every module's section and plot is in the page, no
// script error, no request leaves the page, clicking a flame-graph frame
// zooms to it (and Enter on a focused one, Escape resets), the search box
// marks frames; a screenshot of each page goes beside it.
//
//	node html.mjs PAGE:MODULE,MODULE... ...
//
// Needs playwright-core (npm) and Chromium (Debian's chromium package).
import { chromium } from 'playwright-core';
import path from 'node:path';

const pages = process.argv.slice(2);
if (!pages.length) {
	console.error('usage: node html.mjs PAGE:MODULE,MODULE...');
	process.exit(2);
}
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox', '--headless=new'],
});
let n = 0, failed = 0;
function ok(cond, what) {
	n++;
	console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${what}`);
	if (!cond) failed++;
}

for (const arg of pages) {
	const [file, mods] = arg.split(':');
	const name = path.basename(file);
	const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
	const errors = [], requests = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
	await page.goto(`file://${path.resolve(file)}`);
	await page.waitForLoadState('load');

	for (const m of mods.split(',')) {
		const s = await page.$(`section#${m}`);
		ok(s && await s.isVisible(), `${name}: the ${m} section is shown`);
	}
	const plots = await page.$$eval('figure.histo svg.plot', (a) => a.map((s) => s.querySelectorAll('rect.bar').length));
	ok(plots.length > 0 && plots.every((b) => b > 0), `${name}: ${plots.length} histogram plots, each with bars`);

	const flames = await page.$$('.flame[data-flame]');
	for (const [i, box] of flames.entries()) {
		const graph = await box.$('.flame-graph');
		const frames = await graph.$$('.fr');
		ok(frames.length > 1, `${name}: flame graph ${i + 1} is drawn (${frames.length} frames)`);
		if (frames.length < 2)
			continue;
		// the widest frame below the root: click it
		const target = await graph.evaluate((g) => {
			const fr = [...g.querySelectorAll('.fr')].filter((f) => f.style.top === '18px');
			fr.sort((a, b) => parseFloat(b.style.width) - parseFloat(a.style.width));
			return fr[0] ? fr[0].textContent : null;
		});
		const find = (t) => graph.evaluateHandle((g, t) =>
			[...g.querySelectorAll('.fr:not(.ancestor)')].find((f) => f.textContent === t), t);
		await (await find(target)).asElement().click();
		const zoomed = await graph.evaluate((g, t) => {
			const own = [...g.querySelectorAll('.fr:not(.ancestor)')].find((f) => f.textContent === t);
			return g.getAttribute('data-zoom') === t && own && own.style.width === '100%';
		}, target);
		ok(zoomed, `${name}: clicking frame "${target}" zooms to it (it spans the graph)`);
		await page.keyboard.press('Escape');
		ok(await graph.getAttribute('data-zoom') === 'all', `${name}: Escape resets the zoom`);
		await (await find(target)).asElement().focus();
		await page.keyboard.press('Enter');
		ok(await graph.getAttribute('data-zoom') === target, `${name}: Enter on a focused frame zooms too`);
		await page.keyboard.press('Escape');
		await box.$eval('input', (inp, t) => {
			inp.value = t;
			inp.dispatchEvent(new Event('input'));
		}, target);
		const marked = await graph.$$eval('.fr.match', (a) => a.length);
		const info = await box.$eval('.flame-match', (d) => d.textContent);
		ok(marked > 0 && /matching/.test(info), `${name}: searching marks ${marked} frames and sums them (${info})`);
	}
	ok(errors.length === 0, `${name}: no script error${errors.length ? ': ' + errors.join('; ') : ''}`);
	ok(requests.length === 0, `${name}: nothing is requested over a network${requests.length ? ': ' + requests.join(' ') : ''}`);
	await page.screenshot({ path: `${file}.png`, fullPage: true });
	await page.emulateMedia({ colorScheme: 'dark' });
	await page.screenshot({ path: `${file}.dark.png` });
	await page.close();
}
console.log(`1..${n}`);
await browser.close();
process.exit(failed ? 1 : 0);
