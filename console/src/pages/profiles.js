// Profiles (protocol 7.1): content templates with default channels and
// variables, which configs and enrollment groups name.
import { h, replace } from '../dom.js';
import { errorText } from '../format.js';
import { banner, busy, field, openDialog, toast } from '../ui.js';
import { channelChips, channelId, channelsField, listAll, loadPage, sameVars, showError, varChips,
	varsField } from './fleet-parts.js';
import { confirmButton, listPage } from './list-page.js';

const list = { offset: 0, limit: 25 };

async function profileDialog(ctx, p, onDone) {
	const editing = p !== null;
	const d = openDialog({ title: editing ? 'Edit profile' : 'Create profile', wide: true });
	const top = banner('error');
	replace(d.body, h('p', { class: 'muted' }, 'Loading channels\u2026'));
	let channels = [];
	try {
		channels = await listAll(ctx.api, 'listChannels', 'channels');
	} catch (e) {
		replace(d.body, top.el);
		top.set(`Cannot list the channels: ${errorText(e)}`);
		return;
	}
	const before = editing ? (p.channels || []).map(channelId) : [];
	const fields = {
		id: field({ label: 'ID', control: h('input', { type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false',
			readOnly: editing, value: editing ? p.id : '', placeholder: 'generated when left empty' }),
		hint: editing ? 'The id configs and groups name: it cannot be changed.' : 'Optional: the id configs and groups name.' }),
		name: field({ label: 'Name', control: h('input', { type: 'text', autocomplete: 'off', value: editing ? p.name : '' }) }),
		content: field({ label: 'Content template', control: h('textarea', { class: 'mono', rows: 7, spellcheck: 'false',
			value: editing ? p.content : '', placeholder: '{"id": "{{external_id}}", "site": "{{vars.site}}"}' }),
		hint: 'At most 64 KiB. {{external_id}}, {{client_id}}, {{name}} and {{vars.KEY}} are replaced for each device; nothing else in {{\u2026}} is allowed.' }),
		channels: channelsField(channels, before, 'The default channels of the configs that use this profile.'),
		vars: varsField(editing ? p.vars : {}, 'Default values of {{vars.KEY}}; a config\'s own vars override them.'),
	};
	const save = h('button', { type: 'submit', class: 'btn primary' }, 'Save');
	const form = h('form', { class: 'form', novalidate: true }, top.el,
		h('div', { class: 'grid-2' }, fields.id.el, fields.name.el),
		fields.content.el, fields.channels.el, fields.vars.el,
		h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn', onclick: () => d.close() }, 'Cancel'), save));
	replace(d.body, form);
	(editing ? fields.name : fields.id).control.focus();
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		top.set('');
		Object.values(fields).forEach((f) => f.setError(''));
		const vars = fields.vars.value();
		if (typeof vars === 'string') {
			fields.vars.setError(vars);
			return;
		}
		const body = {};
		const name = fields.name.control.value;
		const content = fields.content.control.value;
		const picked = fields.channels.picked();
		if (editing) {
			body.id = p.id;
			if (name !== p.name)
				body.name = name;
			if (content !== p.content)
				body.content = content;
			if (picked.length !== before.length || picked.some((id) => !before.includes(id)))
				body.channels = picked;
			if (!sameVars(vars, p.vars))
				body.vars = vars;
			if (Object.keys(body).length === 1) {
				top.set('Nothing was changed.', 'info');
				return;
			}
		} else {
			if (!name.trim()) {
				fields.name.setError('Required: a name for the profile.');
				fields.name.control.focus();
				return;
			}
			Object.assign(body, { name, content });
			if (fields.id.control.value !== '')
				body.id = fields.id.control.value;
			if (picked.length > 0)
				body.channels = picked;
			if (Object.keys(vars).length > 0)
				body.vars = vars;
		}
		busy(save, true);
		try {
			const data = await ctx.api.call(editing ? 'modifyProfile' : 'createProfile', body);
			d.close();
			toast(`Profile ${data.name || data.id} ${editing ? 'saved' : 'created'}.`);
			onDone(data);
		} catch (e) {
			busy(save, false);
			showError(e, fields, top);
		}
	});
}

export const profilesPage = {
	id: 'profiles',
	title: 'Profiles',
	route: /^profiles$/,
	render(ctx, root) {
		let channels = [];
		const create = h('button', { type: 'button', class: 'btn primary', 'aria-label': 'Create' }, '+ Create');
		create.addEventListener('click', () => profileDialog(ctx, null, () => view.load()));
		const refresh = h('button', { type: 'button', class: 'btn', 'aria-label': 'Refresh' }, 'Refresh');
		refresh.addEventListener('click', () => view.load());
		const view = listPage(root, {
			heading: 'Profiles',
			text: 'Content templates for many devices: a config or an enrollment group names one, and each device gets it filled in with its own values.',
			actions: [refresh, create],
			what: 'the profiles',
			async fetch() {
				const page = await loadPage(ctx.api, 'listProfiles', 'profiles', list);
				channels = await listAll(ctx.api, 'listChannels', 'channels').catch(() => channels);
				return page;
			},
			items: (page) => page.profiles,
			caption: 'Profiles',
			columns: ['Name', 'ID', 'Template', 'Channels', 'Vars'],
			empty: ['No profiles yet.', 'A profile holds the content template, channels and variables that many devices share.'],
			noun: ['profile', 'profiles'],
			state: list,
			row: (p, v) => profileRow(ctx, p, v, channels),
		});
		view.load();
		return { refresh: () => view.load(true) };
	},
};

function profileRow(ctx, p, view, channels) {
	const edit = h('button', { type: 'button', class: 'btn small', 'aria-label': 'Edit', title: `Edit ${p.id}` }, 'Edit');
	edit.addEventListener('click', async () => {
		let fresh = p;
		try {
			fresh = await ctx.api.call('getProfile', { id: p.id });
		} catch (e) {
			view.msg.set(`Edit ${p.id}: ${errorText(e)}`);
			return;
		}
		profileDialog(ctx, fresh, () => view.load());
	});
	const del = confirmButton(view, { name: 'Delete', id: p.id, title: 'Delete this profile?',
		text: `The profile ${p.name || p.id} will be deleted. A profile that a configuration or a group uses cannot be.`,
		run: () => ctx.api.call('deleteProfile', { id: p.id }),
		done: `Profile ${p.name || p.id} deleted.`,
		onError: (e) => showError(e, {}, view.msg, { inUse: true }) });
	const first = (p.content || '').split('\n')[0];
	return h('tr', { 'data-profile-id': p.id },
		h('td', { 'data-label': 'Name', class: 'strong' }, p.name || h('span', { class: 'muted' }, 'Unnamed')),
		h('td', { 'data-label': 'ID', class: 'mono' }, p.id),
		h('td', { 'data-label': 'Template', class: 'mono small', title: p.content || '' },
			first ? (first.length > 60 ? `${first.slice(0, 60)}\u2026` : first) : h('span', { class: 'muted' }, 'empty')),
		h('td', { 'data-label': 'Channels' }, channelChips(p.channels, channels)),
		h('td', { 'data-label': 'Vars' }, varChips(p.vars)),
		h('td', { class: 'cell-actions' }, h('div', { class: 'actions row-actions' }, edit, del)));
}
