// Channels: created before the configs that use them.
import { ApiError } from '../api.js';
import { h, replace } from '../dom.js';
import { errorField, errorText } from '../format.js';
import { banner, busy, field, openDialog, toast } from '../ui.js';
import { confirmButton, listPage } from './list-page.js';

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
		const create = h('button', { type: 'button', class: 'btn primary', 'aria-label': 'Create' }, '+ Create');
		create.addEventListener('click', () => channelDialog(ctx, null, () => view.load()));
		const view = listPage(root, {
			heading: 'Channels',
			text: 'The topics a bootstrapped device may use: channels/<id>/messages/#. Create them before the configurations that use them.',
			actions: [create],
			what: 'the channels',
			fetch: () => ctx.api.call('listChannels', { offset: list.offset, limit: list.limit }),
			items: (page) => page.channels,
			caption: 'Channels',
			columns: ['Name', 'ID', 'Metadata'],
			empty: ['No channels yet.', 'A device bootstraps with the channels of its configuration.'],
			noun: ['channel', 'channels'],
			state: list,
			row: channelRow(ctx),
		});
		view.load();
		return { refresh: () => view.load(true) };
	},
};

function channelRow(ctx) {
	return (ch, view) => {
		const edit = h('button', { type: 'button', class: 'btn small', 'aria-label': 'Edit', title: `Edit ${ch.id}` }, 'Edit');
		edit.addEventListener('click', () => channelDialog(ctx, ch, () => view.load()));
		const del = confirmButton(view, { name: 'Delete', id: ch.id, title: 'Delete this channel?',
			text: `The channel ${ch.name || ch.id} will be deleted and leaves every configuration that has it; its devices lose its topics at once.`,
			run: () => ctx.api.call('deleteChannel', { id: ch.id }),
			done: `Channel ${ch.name || ch.id} deleted.` });
		const meta = ch.metadata && Object.keys(ch.metadata).length ? JSON.stringify(ch.metadata) : '';
		return h('tr', { 'data-channel-id': ch.id },
			h('td', { 'data-label': 'Name', class: 'strong' }, ch.name || h('span', { class: 'muted' }, 'Unnamed')),
			h('td', { 'data-label': 'ID', class: 'mono' }, ch.id),
			h('td', { 'data-label': 'Metadata', class: 'mono small' }, meta || h('span', { class: 'muted' }, 'none')),
			h('td', { class: 'cell-actions' }, h('div', { class: 'actions row-actions' }, edit, del)));
	};
}
