/* report.js - the HTML report's own script, inlined in every page
 * (render-html.c): the interactive flame graphs. Each div of class "flame"
 * names in data-flame the id of a script element of type application/json
 * holding {"unit": "ns" or "cents", "names": [...], "root":
 * [name index, value, [children]]}. Click a frame (or focus it and press
 * Enter or Space) to zoom to it, its ancestors kept above it; Escape, the
 * root or the button resets; typing in the search box marks the frames
 * whose name contains the text and sums their share; hover or focus says a
 * frame's time and share. Keep it free of the sequence that closes a CDATA
 * section and of a closing script tag. */
(function () {
	'use strict';
	var ROW = 18, MIN_WIDTH = 0.002;	/* narrower frames than this share are not drawn */

	function fmt(v, unit) {
		if (unit === 'cents')
			return '$' + (v / 100).toFixed(2);
		var steps = [[1e9, 's'], [1e6, 'ms'], [1e3, '\u00b5s'], [1, 'ns']];
		for (var i = 0; i < steps.length; i++)
			if (v >= steps[i][0] || i === steps.length - 1)
				return Number((v / steps[i][0]).toPrecision(3)) + ' ' + steps[i][1];
	}

	function color(name) {
		var h = 0;
		for (var i = 0; i < name.length; i++)
			h = (h * 31 + name.charCodeAt(i)) >>> 0;
		return 'hsl(' + (8 + h % 42) + ',' + (72 + h % 18) + '%,' + (60 + (h >>> 8) % 16) + '%)';
	}

	function tree(a, names, parent) {
		var n = { name: names[a[0]], value: a[1], parent: parent, children: [] };
		(a[2] || []).forEach(function (c) { n.children.push(tree(c, names, n)); });
		return n;
	}

	function share(v, of) {
		return of ? (100 * v / of).toFixed(v * 1000 < of ? 3 : 1) + ' %' : '-';
	}

	function Flame(box) {
		var data = JSON.parse(document.getElementById(box.getAttribute('data-flame')).textContent);
		var root = tree(data.root, data.names, null), unit = data.unit, zoom = root, query = '';
		var graph = box.querySelector('.flame-graph'), info = box.querySelector('.flame-info');
		var input = box.querySelector('input'), reset = box.querySelector('button');
		var found = box.querySelector('.flame-match');

		function describe(n) {
			return n.name + ': ' + fmt(n.value, unit) + ', ' + share(n.value, root.value) + ' of all' +
			    (zoom !== root && n !== zoom ? ', ' + share(n.value, zoom.value) + ' of ' + zoom.name : '');
		}
		function matches(n) {
			return query !== '' && n.name.toLowerCase().indexOf(query) >= 0;
		}
		function frame(n, depth, x, w, ancestor) {
			var d = document.createElement('div');
			d.className = 'fr' + (ancestor ? ' ancestor' : '') + (matches(n) ? ' match' : '');
			d.style.left = (x * 100) + '%';
			d.style.width = (w * 100) + '%';
			d.style.top = (depth * ROW) + 'px';
			d.style.background = color(n.name);
			d.textContent = n.name;
			d.title = describe(n);
			d.tabIndex = 0;
			d.setAttribute('role', 'button');
			d.setAttribute('aria-label', describe(n) + (n === zoom ? '' : '; zoom to it'));
			d.addEventListener('click', function () { zoomTo(n); });
			d.addEventListener('keydown', function (e) {
				if (e.key === 'Enter' || e.key === ' ') {
					e.preventDefault();
					zoomTo(n);
				}
			});
			d.addEventListener('mouseenter', function () { info.textContent = describe(n); });
			d.addEventListener('focus', function () { info.textContent = describe(n); });
			graph.appendChild(d);
			return d;
		}
		/* draw - the zoomed frame across the graph, its ancestors above; returns its element */
		function draw() {
			var chain = [], depth = 0, max = 0, top = null;
			graph.textContent = '';
			for (var a = zoom.parent; a; a = a.parent)
				chain.unshift(a);
			chain.forEach(function (a) { frame(a, depth++, 0, 1, true); });
			(function walk(n, d, x, w) {
				var el = frame(n, d, x, w, false);
				top = top || el;
				max = Math.max(max, d);
				var cx = x;
				n.children.forEach(function (c) {
					var cw = n.value ? w * c.value / n.value : 0;
					if (cw >= MIN_WIDTH)
						walk(c, d + 1, cx, cw);
					cx += cw;
				});
			})(zoom, depth, 0, 1);
			graph.style.height = ((max + 1) * ROW + 2) + 'px';
			graph.setAttribute('data-zoom', zoom.name);
			reset.disabled = zoom === root;
			summarize();
			return top;
		}
		function summarize() {
			var sum = 0, count = 0;
			if (query === '') {
				found.textContent = '';
				return;
			}
			(function walk(n) {
				if (matches(n)) {	/* the outermost match holds the ones below it */
					sum += n.value;
					count++;
					return;
				}
				n.children.forEach(walk);
			})(root);
			found.textContent = count ? 'frames matching "' + query + '": ' + fmt(sum, unit) + ', ' +
			    share(sum, root.value) + ' of all' : 'no frame matches "' + query + '"';
		}
		/* zoomTo - redraw around n; the keyboard focus stays on it, not lost with the old frames */
		function zoomTo(n) {
			zoom = n;
			draw().focus({ preventScroll: true });
			info.textContent = describe(n);
		}
		input.addEventListener('input', function () {
			query = input.value.trim().toLowerCase();
			draw();
		});
		reset.addEventListener('click', function () { zoomTo(root); });
		box.addEventListener('keydown', function (e) {
			if (e.key === 'Escape')
				zoomTo(root);
		});
		draw();
	}

	Array.prototype.forEach.call(document.querySelectorAll('.flame[data-flame]'), Flame);
})();
