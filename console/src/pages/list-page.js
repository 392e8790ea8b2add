// The frame the list pages share: a head with its title, text and actions,
// an error banner, and a body that load() fills with a table of the page's
// rows and its pager, or with an empty state. A quiet load (the live
// refresh) leaves the page as it is when nothing changed.
import { h, replace } from '../dom.js';
import { errorText } from '../format.js';
import { banner, confirmDialog, toast } from '../ui.js';
import { pager } from './fleet-parts.js';

// spec: heading, text, actions (buttons), what ("the profiles"), fetch()
// (the page), items(page), caption, columns, row(item, view), empty
// ([strong, muted]), noun ([one, many]), state ({offset, limit}), and
// optionally before(page), run before the rows are made.
export function listPage(root, spec) {
	const msg = banner('error');
	const body = h('div', { class: 'list-body', 'aria-live': 'polite' });
	const view = { msg, load };
	let last = '';

	replace(root,
		h('div', { class: 'page-head' },
			h('div', null, h('h1', null, spec.heading), h('p', { class: 'muted' }, spec.text)),
			h('div', { class: 'head-actions' }, spec.actions)),
		msg.el, body);

	async function load(quiet = false) {
		let page;
		try {
			page = await spec.fetch();
		} catch (e) {
			msg.set(`Cannot list ${spec.what}: ${errorText(e)}`);
			return;
		}
		msg.set('');
		const text = JSON.stringify(page);
		if (quiet && text === last)
			return;
		last = text;
		if (spec.before)
			spec.before(page);
		if (page.total === 0) {
			replace(body, h('div', { class: 'empty' }, h('p', { class: 'strong' }, spec.empty[0]),
				h('p', { class: 'muted' }, spec.empty[1])));
			return;
		}
		replace(body,
			h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
				h('caption', { class: 'sr-only' }, spec.caption),
				h('thead', null, h('tr', null, spec.columns.map((t) => h('th', { scope: 'col' }, t)),
					h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
				h('tbody', null, spec.items(page).map((item) => spec.row(item, view))))),
			pager(spec.state, page.total, () => load(), spec.noun[0], spec.noun[1]));
	}
	return view;
}

// A row's Delete or Clear: a small button named name (title: name and the
// item's id) that asks first, runs run(), says done, and reloads the view;
// a failure goes to onError(e), or to the view's banner.
export function confirmButton(view, { name, id, title, text, run, done, onError }) {
	const button = h('button', { type: 'button', class: 'btn small danger-text', 'aria-label': name,
		title: `${name} ${id}` }, name);
	button.addEventListener('click', async () => {
		if (!await confirmDialog({ title, text }))
			return;
		try {
			await run();
			toast(done);
			view.load();
		} catch (e) {
			if (onError)
				onError(e);
			else
				view.msg.set(`${name} ${id}: ${errorText(e)}`);
		}
	});
	return button;
}
