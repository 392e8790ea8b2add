// Channels: created before the configs that use them.
import { ApiError } from '../api.js';
import { h, replace } from '../dom.js';
import { errorField, errorText, plural } from '../format.js';
import { banner, busy, confirmDialog, field, openDialog, toast } from '../ui.js';

const list = { offset: 0, limit: 25 };

function channelDialog(ctx, ch, onDone) {
	const editing = ch !== null;
	const d = openDialog({ title: editing ? 'Edit channel' : 'Create channel' });
	const top = banner('error');
	const fields = {
		id: field({ label: 'ID', control: h('input', { type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false',
			readOnly: editing, value: editing ? ch.id : '', placeholder: 'generated when left empty' }),
		hint: editing ? 'The id configs and topics use: it cannot be changed.' : 'Optional: used in the channel\'s topic, channels/<id>/messages/#.' }),
		name: field({ label: 'Name', control: h('input', { type: 'text', autocomplete: 'off', value: editing ? ch.name : '' }) }),
		metadata: field({ label: 'Metadata', control: h('textarea', { class: 'mono', rows: 3, spellcheck: 'false',
			value: editing ? JSON.stringify(ch.metadata || {}, null, 2) : '', placeholder: '{"unit": "C"}' }),
		hint: 'A JSON object; empty for none.' }),
	};
	const save = h('button', { type: 'submit', class: 'btn primary' }, 'Save');
	const form = h('form', { class: 'form', novalidate: true }, top.el, fields.id.el, fields.name.el, fields.metadata.el,
		h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn', onclick: () => d.close() }, 'Cancel'), save));
	replace(d.body, form);
	(editing ? fields.name : fields.id).control.focus();
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		top.set('');
		Object.values(fields).forEach((f) => f.setError(''));
		const body = {};
		const meta = fields.metadata.control.value.trim();
		if (meta !== '') {
			try {
				body.metadata = JSON.parse(meta);
			} catch (e) {
				fields.metadata.setError(`Not JSON: ${e.message}`);
				return;
			}
		} else if (editing) {
			body.metadata = null;
		}
		body.name = fields.name.control.value;
		if (editing)
			body.id = ch.id;
		else if (fields.id.control.value !== '')
			body.id = fields.id.control.value;
		busy(save, true);
		try {
			const data = await ctx.api.call(editing ? 'modifyChannel' : 'createChannel', body);
			d.close();
			toast(editing ? `Channel ${data.name || data.id} saved.` : `Channel ${data.name || data.id} created.`);
			onDone(data);
		} catch (e) {
			busy(save, false);
			const k = e instanceof ApiError ? errorField(e) : null;
			if (k && fields[k]) {
				fields[k].setError(errorText(e));
				fields[k].control.focus();
			} else {
				top.set(errorText(e));
			}
		}
	});
}

export const channelsPage = {
	id: 'channels',
	title: 'Channels',
	route: /^channels$/,
	render(ctx, root) {
		const msg = banner('error');
		const body = h('div', { 'aria-live': 'polite' });
		const create = h('button', { type: 'button', class: 'btn primary', 'aria-label': 'Create' }, '+ Create');
		create.addEventListener('click', () => channelDialog(ctx, null, () => load()));
		replace(root,
			h('div', { class: 'page-head' },
				h('div', null, h('h1', null, 'Channels'),
					h('p', { class: 'muted' }, 'The topics a bootstrapped device may use: channels/<id>/messages/#. Create them before the configurations that use them.')),
				h('div', { class: 'head-actions' }, create)),
			msg.el, body);
		let last = '';
		async function load(quiet = false) {
			let page;
			try {
				page = await ctx.api.call('listChannels', { offset: list.offset, limit: list.limit });
			} catch (e) {
				msg.set(`Cannot list the channels: ${errorText(e)}`);
				return;
			}
			msg.set('');
			const text = JSON.stringify(page);
			if (quiet && text === last)
				return;
			last = text;
			if (page.total === 0) {
				replace(body, h('div', { class: 'empty' }, h('p', { class: 'strong' }, 'No channels yet.'),
					h('p', { class: 'muted' }, 'A device bootstraps with the channels of its configuration.')));
				return;
			}
			const rows = page.channels.map((ch) => {
				const edit = h('button', { type: 'button', class: 'btn small', 'aria-label': 'Edit', title: `Edit ${ch.id}` }, 'Edit');
				edit.addEventListener('click', () => channelDialog(ctx, ch, () => load()));
				const del = h('button', { type: 'button', class: 'btn small danger-text', 'aria-label': 'Delete', title: `Delete ${ch.id}` }, 'Delete');
				del.addEventListener('click', async () => {
					const yes = await confirmDialog({ title: 'Delete this channel?',
						text: `The channel ${ch.name || ch.id} will be deleted and leaves every configuration that has it; its devices lose its topics at once.` });
					if (!yes)
						return;
					try {
						await ctx.api.call('deleteChannel', { id: ch.id });
						toast(`Channel ${ch.name || ch.id} deleted.`);
						load();
					} catch (e) {
						msg.set(`Delete ${ch.id}: ${errorText(e)}`);
					}
				});
				const meta = ch.metadata && Object.keys(ch.metadata).length ? JSON.stringify(ch.metadata) : '';
				return h('tr', { 'data-channel-id': ch.id },
					h('td', { 'data-label': 'Name', class: 'strong' }, ch.name || h('span', { class: 'muted' }, 'Unnamed')),
					h('td', { 'data-label': 'ID', class: 'mono' }, ch.id),
					h('td', { 'data-label': 'Metadata', class: 'mono small' }, meta || h('span', { class: 'muted' }, 'none')),
					h('td', { class: 'cell-actions' }, h('div', { class: 'actions row-actions' }, edit, del)));
			});
			const first = list.offset + 1;
			const lastRow = Math.min(list.offset + list.limit, page.total);
			const prev = h('button', { type: 'button', class: 'btn small', disabled: list.offset === 0,
				onclick: () => { list.offset = Math.max(0, list.offset - list.limit); load(); } }, 'Previous');
			const next = h('button', { type: 'button', class: 'btn small', disabled: lastRow >= page.total,
				onclick: () => { list.offset += list.limit; load(); } }, 'Next');
			replace(body,
				h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
					h('caption', { class: 'sr-only' }, 'Channels'),
					h('thead', null, h('tr', null, ['Name', 'ID', 'Metadata'].map((t) => h('th', { scope: 'col' }, t)),
						h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
					h('tbody', null, rows))),
				h('nav', { class: 'pager', 'aria-label': 'Pages' },
					h('span', { class: 'muted' }, `${first}\u2013${lastRow} of ${plural(page.total, 'channel', 'channels')}`),
					h('span', { class: 'spacer' }), prev, next));
		}
		load();
		return { refresh: () => load(true) };
	},
};
