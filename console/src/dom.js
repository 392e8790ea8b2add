// Building the page. Every value from the broker goes in as a text node or
// an attribute value, never as markup: there is no innerHTML in the console.

// h('button', {class: 'x', onclick: f, 'aria-label': 'Edit'}, 'Edit', child...)
// Strings and numbers among the children become text nodes; null, false
// and undefined are skipped; arrays are flattened.
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	if (attrs) {
		for (const [k, v] of Object.entries(attrs)) {
			if (v === undefined || v === null || v === false)
				continue;
			if (k.startsWith('on') && typeof v === 'function')
				el.addEventListener(k.slice(2), v);
			else if (k === 'class')
				el.className = v;
			else if (k === 'value')
				el.value = v;
			else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'multiple' ||
					k === 'required' || k === 'readOnly' || k === 'open')
				el[k] = true;
			else if (k === 'dataset')
				Object.assign(el.dataset, v);
			else
				el.setAttribute(k, v === true ? '' : String(v));
		}
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false)
			continue;
		if (Array.isArray(c))
			append(el, c);
		else if (c instanceof Node)
			el.appendChild(c);
		else
			el.appendChild(document.createTextNode(String(c)));
	}
}

export function clear(el) {
	while (el.firstChild)
		el.removeChild(el.firstChild);
	return el;
}

export function replace(el, ...children) {
	clear(el);
	append(el, children);
	return el;
}

let ids = 0;
export function uid(prefix) {
	ids += 1;
	return `${prefix}-${ids}`;
}
