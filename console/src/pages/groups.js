// Enrollment groups (protocol 7.2): a device flashed with the key derived
// from a group's key gets its config made at its first bootstrap, with the
// group's profile and channels. The group key is shown once, after Create
// and after Rotate key, never again.
import { h, replace } from '../dom.js';
import { errorText } from '../format.js';
import { banner, busy, confirmDialog, field, openDialog, toast } from '../ui.js';
import { channelChips, channelId, channelsField, listAll, loadPage, profileField, secretOnce,
	showError } from './fleet-parts.js';
import { confirmButton, listPage } from './list-page.js';

const list = { offset: 0, limit: 25 };

// How a factory derives each device's key, shown beside the group key.
function recipe(groupId) {
	return h('div', { class: 'recipe' },
		h('p', { class: 'muted small' }, 'Each device of the group is flashed with its external ID and the key derived from the group key, and bootstraps with ',
			h('code', null, `"group": "${groupId}"`), ':'),
		h('pre', { class: 'mono content' },
			'printf %s "$EXTERNAL_ID" |\n  openssl dgst -sha256 -hmac "$GROUP_KEY" -binary |\n  basenc --base64url | tr -d ='));
}

function showKey(d, data, title) {
	secretOnce(d, {
		title,
		label: 'Group key',
		value: data.group_key,
		note: `The key of the enrollment group ${data.name || data.id}. Whoever holds it can enroll devices in this group.`,
		after: recipe(data.id),
	});
}

async function groupDialog(ctx, g, onDone) {
	const editing = g !== null;
	const d = openDialog({ title: editing ? 'Edit enrollment group' : 'Create enrollment group', wide: true, onClose: () => onDone() });
	const top = banner('error');
	replace(d.body, h('p', { class: 'muted' }, 'Loading channels and profiles\u2026'));
	let channels = [];
	let profiles = [];
	try {
		[channels, profiles] = await Promise.all([listAll(ctx.api, 'listChannels', 'channels'),
			listAll(ctx.api, 'listProfiles', 'profiles')]);
	} catch (e) {
		replace(d.body, top.el);
		top.set(`Cannot list the channels and profiles: ${errorText(e)}`);
		return;
	}
	const before = editing ? (g.channels || []).map(channelId) : [];
	const enable = h('input', { type: 'checkbox', checked: editing && g.enable === true });
	const fields = {
		id: field({ label: 'ID', control: h('input', { type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false',
			readOnly: editing, value: editing ? g.id : '', placeholder: 'generated when left empty' }),
		hint: editing ? 'Devices name it when they enroll: it cannot be changed.' : 'Optional: devices name it, "group": "<id>", when they enroll.' }),
		name: field({ label: 'Name', control: h('input', { type: 'text', autocomplete: 'off', value: editing ? g.name : '' }) }),
		profile: profileField(profiles, editing ? g.profile : '', 'The content template of the configs made for its devices.'),
		channels: channelsField(channels, before, 'The channels of the configs made for its devices.'),
		enable: field({ label: 'Enable the configs it makes', control: enable, className: 'checkbox-field',
			hint: 'Unchecked: a device that enrolls gets a disabled config, and is answered "disabled" until an admin enables it.' }),
	};
	const save = h('button', { type: 'submit', class: 'btn primary' }, 'Save');
	const form = h('form', { class: 'form', novalidate: true }, top.el,
		h('div', { class: 'grid-2' }, fields.id.el, fields.name.el),
		fields.profile.el, fields.channels.el, fields.enable.el,
		h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn', onclick: () => d.close() }, 'Cancel'), save));
	replace(d.body, form);
	(editing ? fields.name : fields.id).control.focus();
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		top.set('');
		Object.values(fields).forEach((f) => f.setError(''));
		const name = fields.name.control.value;
		const profile = fields.profile.control.value;
		const picked = fields.channels.picked();
		const body = {};
		if (editing) {
			body.id = g.id;
			if (name !== g.name)
				body.name = name;
			if (profile !== (g.profile || ''))
				body.profile = profile === '' ? null : profile;
			if (picked.length !== before.length || picked.some((id) => !before.includes(id)))
				body.channels = picked;
			if (enable.checked !== (g.enable === true))
				body.enable = enable.checked;
			if (Object.keys(body).length === 1) {
				top.set('Nothing was changed.', 'info');
				return;
			}
		} else {
			if (!name.trim()) {
				fields.name.setError('Required: a name for the group.');
				fields.name.control.focus();
				return;
			}
			body.name = name;
			if (fields.id.control.value !== '')
				body.id = fields.id.control.value;
			if (profile !== '')
				body.profile = profile;
			if (picked.length > 0)
				body.channels = picked;
			body.enable = enable.checked;
		}
		busy(save, true);
		try {
			const data = await ctx.api.call(editing ? 'modifyGroup' : 'createGroup', body);
			if (!editing && data.group_key) {
				showKey(d, data, 'Enrollment group created');
			} else {
				d.close();
				toast(`Group ${data.name || data.id} ${editing ? 'saved' : 'created'}.`);
			}
		} catch (e) {
			busy(save, false);
			showError(e, fields, top);
		}
	});
}

async function rotateKey(ctx, g, after) {
	const yes = await confirmDialog({
		title: 'Issue a new group key?',
		text: `The enrollment group ${g.name || g.id} gets a new key: devices flashed with keys derived from the old one can no longer enroll. The configurations it already made keep working.`,
		confirmLabel: 'Confirm',
	});
	if (!yes)
		return;
	let data;
	try {
		data = await ctx.api.call('modifyGroup', { id: g.id, rotate_key: true });
	} catch (e) {
		ctx.report(`Rotate the key of ${g.id}: ${errorText(e)}`);
		return;
	}
	const d = openDialog({ title: 'New group key', wide: true, onClose: after });
	showKey(d, data, 'New group key');
}

export const groupsPage = {
	id: 'groups',
	title: 'Groups',
	route: /^groups$/,
	render(ctx, root) {
		let channels = [];
		const create = h('button', { type: 'button', class: 'btn primary', 'aria-label': 'Create' }, '+ Create');
		create.addEventListener('click', () => groupDialog(ctx, null, () => view.load()));
		const refresh = h('button', { type: 'button', class: 'btn', 'aria-label': 'Refresh' }, 'Refresh');
		refresh.addEventListener('click', () => view.load());
		const view = listPage(root, {
			heading: 'Enrollment groups',
			text: 'Zero-touch: a device of a group needs no configuration of its own beforehand. It gets one at its first bootstrap, made from the group.',
			actions: [refresh, create],
			what: 'the enrollment groups',
			async fetch() {
				const page = await loadPage(ctx.api, 'listGroups', 'groups', list);
				channels = await listAll(ctx.api, 'listChannels', 'channels').catch(() => channels);
				return page;
			},
			items: (page) => page.groups,
			caption: 'Enrollment groups',
			columns: ['Name', 'ID', 'Profile', 'Channels', 'New configs'],
			empty: ['No enrollment groups yet.', 'Create one for a production batch: its devices enroll themselves with keys derived from the group key.'],
			noun: ['group', 'groups'],
			state: list,
			row: (g, v) => groupRow(ctx, g, v, channels),
		});
		view.load();
		return { refresh: () => view.load(true) };
	},
};

function groupRow(ctx, g, view, channels) {
	const label = (name) => ({ 'aria-label': name, title: `${name} ${g.id}` });
	const edit = h('button', { type: 'button', class: 'btn small', ...label('Edit') }, 'Edit');
	edit.addEventListener('click', async () => {
		let fresh = g;
		try {
			fresh = await ctx.api.call('getGroup', { id: g.id });
		} catch (e) {
			view.msg.set(`Edit ${g.id}: ${errorText(e)}`);
			return;
		}
		groupDialog(ctx, fresh, () => view.load());
	});
	const rotate = h('button', { type: 'button', class: 'btn small', ...label('Rotate key') }, 'Rotate key');
	rotate.addEventListener('click', () => rotateKey(ctx, g, () => view.load()));
	const del = confirmButton(view, { name: 'Delete', id: g.id, title: 'Delete this enrollment group?',
		text: `The group ${g.name || g.id} will be deleted: its devices that have not enrolled yet can no longer enroll. The configurations it made stay.`,
		run: () => ctx.api.call('deleteGroup', { id: g.id }),
		done: `Group ${g.name || g.id} deleted.`,
		onError: (e) => showError(e, {}, view.msg, { inUse: true }) });
	return h('tr', { 'data-group-id': g.id },
		h('td', { 'data-label': 'Name', class: 'strong' }, g.name || h('span', { class: 'muted' }, 'Unnamed')),
		h('td', { 'data-label': 'ID', class: 'mono' }, g.id),
		h('td', { 'data-label': 'Profile', class: 'mono' }, g.profile || h('span', { class: 'muted' }, 'none')),
		h('td', { 'data-label': 'Channels' }, channelChips(g.channels, channels)),
		h('td', { 'data-label': 'New configs' }, h('span', { class: `state state-${g.enable ? 'enabled' : 'disabled'}` },
			g.enable ? 'enabled' : 'disabled')),
		h('td', { class: 'cell-actions' }, h('div', { class: 'actions row-actions' }, edit, rotate, del)));
}
