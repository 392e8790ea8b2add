// The pieces the fleet pages (profiles, enrollment groups, unknown
// devices: protocol section 7) and the config dialog share: every page of
// a list, a pager, the channels and profile pickers, the vars rows, and
// the once-only view of a secret.
import { ApiError } from '../api.js';
import { h, replace, uid } from '../dom.js';
import { errorField, errorText, plural } from '../format.js';
import { copyText, field } from '../ui.js';

const ALL_PAGE = 1000;

// Every item of a list command, page after page of the plugin's largest.
export async function listAll(api, command, key) {
	const out = [];
	for (let offset = 0; ; offset += ALL_PAGE) {
		const page = await api.call(command, { offset, limit: ALL_PAGE });
		out.push(...page[key]);
		if (out.length >= page.total || page[key].length === 0)
			return out;
	}
}

// A channel of a config is an object; of a profile or group, an id (or
// an object, as a plugin may answer).
export const channelId = (c) => (typeof c === 'string' ? c : c && c.id);

// The names of channels (ids, or objects) as chips, by the channel list.
export function channelChips(list, known = []) {
	if (!list || list.length === 0)
		return h('span', { class: 'muted' }, 'none');
	const names = new Map(known.map((c) => [c.id, c.name]));
	return h('span', { class: 'chips' }, list.map((c) => {
		const id = channelId(c);
		const name = (typeof c === 'object' && c.name) || names.get(id) || id;
		return h('span', { class: 'chip', title: id }, name);
	}));
}

// The vars object as "KEY=VALUE" chips.
export function varChips(vars) {
	const keys = vars ? Object.keys(vars) : [];
	if (keys.length === 0)
		return h('span', { class: 'muted' }, 'none');
	return h('span', { class: 'chips' }, keys.map((k) => h('span', { class: 'chip mono' }, `${k}=${vars[k]}`)));
}

// "1–25 of 40 profiles", page size, Previous and Next, on state
// {offset, limit}; reload() after each change.
export function pager(state, total, reload, one, many) {
	const first = total === 0 ? 0 : state.offset + 1;
	const last = Math.min(state.offset + state.limit, total);
	const prev = h('button', { type: 'button', class: 'btn small', disabled: state.offset === 0 }, 'Previous');
	const next = h('button', { type: 'button', class: 'btn small', disabled: last >= total }, 'Next');
	prev.addEventListener('click', () => {
		state.offset = Math.max(0, state.offset - state.limit);
		reload();
	});
	next.addEventListener('click', () => {
		state.offset += state.limit;
		reload();
	});
	const size = h('select', { 'aria-label': 'Rows per page' }, [10, 25, 50, 100].map((n) => h('option', { value: n }, `${n} per page`)));
	size.value = String(state.limit);
	size.addEventListener('change', () => {
		state.limit = Number(size.value);
		state.offset = 0;
		reload();
	});
	const pages = Math.max(1, Math.ceil(total / state.limit));
	const page = Math.floor(state.offset / state.limit) + 1;
	return h('nav', { class: 'pager', 'aria-label': 'Pages' },
		h('span', { class: 'muted', 'data-total': total }, `${first}\u2013${last} of ${plural(total, one, many)}`),
		h('span', { class: 'spacer' }),
		size,
		h('span', { class: 'muted' }, `Page ${page} of ${pages}`),
		prev, next);
}

// One page of a list command on state, stepping back a page when the last
// one emptied (a delete): the page data.
export async function loadPage(api, command, key, state, extra = {}) {
	let page = await api.call(command, { offset: state.offset, limit: state.limit, ...extra });
	if (page[key].length === 0 && page.total > 0 && state.offset > 0) {
		state.offset = Math.max(0, Math.floor((page.total - 1) / state.limit) * state.limit);
		page = await api.call(command, { offset: state.offset, limit: state.limit, ...extra });
	}
	return page;
}

// A multiple select of every channel, chosen ones selected.
export function channelsField(channels, chosenIds, hint) {
	const chosen = new Set(chosenIds);
	const select = h('select', { multiple: true, size: Math.min(Math.max(channels.length, 2), 6) },
		channels.map((c) => h('option', { value: c.id, selected: chosen.has(c.id) }, c.name ? `${c.name} (${c.id})` : c.id)));
	const f = field({ label: 'Channels', control: select,
		hint: channels.length === 0 ? 'No channels exist yet: create them on the Channels page first.'
			: hint || 'Ctrl-click (\u2318-click) to pick several.' });
	f.picked = () => Array.from(select.selectedOptions, (o) => o.value);
	return f;
}

// A select of the profiles, "None" first.
export function profileField(profiles, current, hint) {
	const select = h('select', null,
		h('option', { value: '' }, 'None'),
		profiles.map((p) => h('option', { value: p.id, selected: p.id === current }, p.name ? `${p.name} (${p.id})` : p.id)));
	select.value = current || '';
	return field({ label: 'Profile', control: select, hint });
}

// Variables as KEY = VALUE rows, one to add more, each with Remove.
// value() is the vars object, or a string saying what is wrong.
export function varsField(vars, hint) {
	const rows = h('div', { class: 'vars-rows' });
	const box = h('div', { class: 'vars', role: 'group' }, rows);
	const addRow = (k = '', v = '') => {
		const n = rows.children.length + 1;
		const key = h('input', { type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false', value: k,
			placeholder: 'KEY', 'aria-label': `Variable ${n} name` });
		const val = h('input', { type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false', value: v,
			placeholder: 'value', 'aria-label': `Variable ${n} value` });
		const row = h('div', { class: 'var-row' }, key, h('span', { class: 'muted', 'aria-hidden': 'true' }, '='), val);
		const remove = h('button', { type: 'button', class: 'btn small', 'aria-label': `Remove variable ${n}`,
			onclick: () => row.remove() }, 'Remove');
		row.appendChild(remove);
		rows.appendChild(row);
		return key;
	};
	for (const [k, v] of Object.entries(vars || {}))
		addRow(k, v);
	const add = h('button', { type: 'button', class: 'btn small', 'aria-label': 'Add variable',
		onclick: () => addRow().focus() }, '+ Add variable');
	const f = field({ label: 'Vars', control: box, hint, extra: add });
	box.setAttribute('aria-label', 'Vars');
	f.value = () => {
		const out = {};
		for (const row of rows.children) {
			const [key, val] = row.querySelectorAll('input');
			const k = key.value.trim();
			if (k === '' && val.value === '')
				continue;
			if (!/^[A-Za-z0-9_-]+$/.test(k))
				return `"${k}" is not a variable name: letters, digits, "_" and "-" only.`;
			if (k in out)
				return `${k} is given twice.`;
			out[k] = val.value;
		}
		return out;
	};
	return f;
}

// Whether two vars objects hold the same members.
export function sameVars(a, b) {
	const x = a || {};
	const y = b || {};
	const kx = Object.keys(x);
	return kx.length === Object.keys(y).length && kx.every((k) => y[k] === x[k]);
}

// An error of the plugin shown by the field it names (fields: {name: f}),
// else in the banner top. A conflict on a delete or a change is said as
// "In use" rather than "Already exists" when inUse.
export function showError(e, fields, top, { inUse = false } = {}) {
	const text = inUse && e instanceof ApiError && e.code === 'conflict'
		? `In use: ${e.message}.` : errorText(e);
	const k = e instanceof ApiError ? errorField(e) : null;
	if (k && fields[k]) {
		fields[k].setError(text);
		const c = fields[k].control;
		(c.matches('input, select, textarea') ? c : c.querySelector('input, button') || c).focus();
		top.set('The broker did not accept this: see the field marked below.');
	} else {
		top.set(text);
	}
}

// A secret shown once in d, with a Copy button: label names the input
// ("Group key"); note is said above it.
export function secretOnce(d, { title, label, value, note, done, after }) {
	const input = h('input', { class: 'mono secret', readOnly: true, value, 'aria-label': label,
		spellcheck: 'false', autocomplete: 'off', id: uid('secret') });
	const copy = h('button', { type: 'button', class: 'btn small', 'aria-label': `Copy ${label.toLowerCase()}` }, 'Copy');
	copy.addEventListener('click', async () => {
		const ok = await copyText(value, input);
		copy.textContent = ok ? 'Copied' : 'Select and copy';
		setTimeout(() => { copy.textContent = 'Copy'; }, 2000);
	});
	const doneBtn = h('button', { type: 'button', class: 'btn primary', onclick: () => d.close() }, done || 'Done');
	d.titleEl.textContent = title;
	replace(d.body,
		note ? h('p', null, note) : null,
		h('div', { class: 'banner warn', role: 'status' },
			'Copy it now: it is shown this once and never again.'),
		h('div', { class: 'secrets', 'data-secrets': '' },
			h('div', { class: 'secret-row' }, h('label', { class: 'field-label', for: input.id }, label),
				h('div', { class: 'secret-line' }, input, copy))),
		after || null,
		h('div', { class: 'dialog-actions' }, doneBtn));
	doneBtn.focus();
}

