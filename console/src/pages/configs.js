// Bootstraps: the list of configurations and the details of one.
import { h, replace } from '../dom.js';
import { ago, errorText, plural, when } from '../format.js';
import { banner, busy, confirmDialog, field, openDialog, stateBadge, toast } from '../ui.js';
import { configDialog } from './config-form.js';
import { varChips } from './fleet-parts.js';

const list = { offset: 0, limit: 25, state: '', name: '', external_id: '', cert_days: '' };
const DAY_MS = 86400000;

// "Certificate expires within N days" as the plugin's cert_expires_before
// (an RFC 3339 time, now + N days), or null when no whole N >= 0 is set.
export function certExpiresBefore(days, now = Date.now()) {
	if (!/^\d{1,5}$/.test(String(days).trim()))
		return null;
	return new Date(now + Number(days) * DAY_MS).toISOString().replace(/\.\d+Z$/, 'Z');
}

function detailsHref(cfg) {
	return `#/configs/${encodeURIComponent(cfg.client_id)}`;
}

function channelNames(cfg) {
	if (!cfg.channels || cfg.channels.length === 0)
		return h('span', { class: 'muted' }, 'none');
	return h('span', { class: 'chips' }, cfg.channels.map((c) => h('span', { class: 'chip', title: c.id }, c.name || c.id)));
}

// Enable, Disable, Edit, Delete for one config; after(action, data) runs
// once the broker has done it.
function actions(ctx, cfg, after, { withText = false } = {}) {
	const label = (name, text) => ({ 'aria-label': name, title: `${text} ${cfg.external_id}` });
	const toggle = cfg.state === 'enabled'
		? h('button', { type: 'button', class: 'btn small', ...label('Disable', 'Disable') }, 'Disable')
		: h('button', { type: 'button', class: 'btn small ok', ...label('Enable', 'Enable') }, 'Enable');
	toggle.addEventListener('click', async () => {
		const command = cfg.state === 'enabled' ? 'disableConfig' : 'enableConfig';
		busy(toggle, true);
		try {
			const data = await ctx.api.call(command, { client_id: cfg.client_id });
			toast(`${data.external_id} is ${data.state}.`);
			after('state', data);
		} catch (e) {
			busy(toggle, false);
			ctx.report(`${command === 'enableConfig' ? 'Enable' : 'Disable'} ${cfg.external_id}: ${errorText(e)}`);
		}
	});
	const edit = h('button', { type: 'button', class: 'btn small', ...label('Edit', 'Edit') }, 'Edit');
	edit.addEventListener('click', async () => {
		// Edit what the broker has now, not what the list showed.
		let fresh = cfg;
		try {
			fresh = await ctx.api.call('getConfig', { client_id: cfg.client_id });
		} catch (e) {
			ctx.report(`Edit ${cfg.external_id}: ${errorText(e)}`);
			return;
		}
		configDialog(ctx.api, fresh, (data) => after('edit', data));
	});
	const del = h('button', { type: 'button', class: 'btn small danger-text', ...label('Delete', 'Delete') }, 'Delete');
	del.addEventListener('click', async () => {
		const yes = await confirmDialog({
			title: 'Delete this configuration?',
			text: `The configuration of ${cfg.external_id}${cfg.name ? ` (${cfg.name})` : ''} will be deleted: the device can no longer bootstrap, and its sessions on this broker are closed. This cannot be undone.`,
		});
		if (!yes)
			return;
		try {
			await ctx.api.call('deleteConfig', { client_id: cfg.client_id });
			toast(`${cfg.external_id} is deleted.`);
			after('delete', cfg);
		} catch (e) {
			ctx.report(`Delete ${cfg.external_id}: ${errorText(e)}`);
		}
	});
	return h('div', { class: withText ? 'actions' : 'actions row-actions' }, toggle, edit, del);
}

function filters(ctx, reload) {
	const state = h('select', null,
		h('option', { value: '' }, 'All states'),
		h('option', { value: 'enabled' }, 'Enabled'),
		h('option', { value: 'disabled' }, 'Disabled'));
	state.value = list.state;
	state.addEventListener('change', () => {
		list.state = state.value;
		list.offset = 0;
		reload();
	});
	const name = h('input', { type: 'search', placeholder: 'Name contains\u2026', value: list.name, autocomplete: 'off' });
	const ext = h('input', { type: 'search', placeholder: 'Exact external ID', value: list.external_id,
		autocomplete: 'off', spellcheck: 'false' });
	let timer = null;
	const typed = () => {
		clearTimeout(timer);
		timer = setTimeout(() => {
			list.name = name.value;
			list.external_id = ext.value.trim();
			list.offset = 0;
			reload();
		}, 250);
	};
	const days = h('input', { type: 'number', min: '0', max: '99999', step: '1', inputmode: 'numeric',
		placeholder: 'Any', value: list.cert_days, autocomplete: 'off' });
	const daysTyped = () => {
		clearTimeout(timer);
		timer = setTimeout(() => {
			list.cert_days = days.value.trim();
			list.offset = 0;
			reload();
		}, 250);
	};
	name.addEventListener('input', typed);
	ext.addEventListener('input', typed);
	days.addEventListener('input', daysTyped);
	return h('div', { class: 'filters' },
		field({ label: 'State', control: state, className: 'compact' }).el,
		field({ label: 'Search', control: name, className: 'compact grow' }).el,
		field({ label: 'Device ID', control: ext, className: 'compact grow' }).el,
		field({ label: 'Certificate expires within N days', control: days, className: 'compact' }).el);
}

function pager(total, reload) {
	const first = total === 0 ? 0 : list.offset + 1;
	const last = Math.min(list.offset + list.limit, total);
	const prev = h('button', { type: 'button', class: 'btn small', disabled: list.offset === 0 }, 'Previous');
	const next = h('button', { type: 'button', class: 'btn small', disabled: last >= total }, 'Next');
	prev.addEventListener('click', () => {
		list.offset = Math.max(0, list.offset - list.limit);
		reload();
	});
	next.addEventListener('click', () => {
		list.offset += list.limit;
		reload();
	});
	const size = h('select', { 'aria-label': 'Rows per page' }, [10, 25, 50, 100].map((n) => h('option', { value: n }, `${n} per page`)));
	size.value = String(list.limit);
	size.addEventListener('change', () => {
		list.limit = Number(size.value);
		list.offset = 0;
		reload();
	});
	const pages = Math.max(1, Math.ceil(total / list.limit));
	const page = Math.floor(list.offset / list.limit) + 1;
	return h('nav', { class: 'pager', 'aria-label': 'Pages' },
		h('span', { class: 'muted', 'data-total': total }, `${first}\u2013${last} of ${plural(total, 'configuration', 'configurations')}`),
		h('span', { class: 'spacer' }),
		size,
		h('span', { class: 'muted' }, `Page ${page} of ${pages}`),
		prev, next);
}

// When the certificate expires, for the list: "in 12 days", "expired".
function expiry(cfg) {
	if (!cfg.cert_expires_at)
		return h('span', { class: 'muted' }, '\u2013');
	const left = Math.floor((new Date(cfg.cert_expires_at).getTime() - Date.now()) / DAY_MS);
	const text = !Number.isFinite(left) ? cfg.cert_expires_at
		: left < 0 ? 'expired' : left === 0 ? 'today' : `in ${plural(left, 'day', 'days')}`;
	return h('span', { class: left < 0 ? 'danger-text' : null }, text);
}

function table(ctx, configs, reload) {
	// The column appears once the plugin reports certificates it issued.
	const certs = configs.some((cfg) => cfg.cert_expires_at);
	const rows = configs.map((cfg) => h('tr', { 'data-client-id': cfg.client_id },
		h('td', { 'data-label': 'Name' }, h('a', { href: detailsHref(cfg), class: 'strong' },
			cfg.name ? cfg.name : h('span', { class: 'muted' }, 'Unnamed'))),
		h('td', { 'data-label': 'External ID', class: 'mono' }, cfg.external_id),
		h('td', { 'data-label': 'Channels' }, channelNames(cfg)),
		h('td', { 'data-label': 'State' }, stateBadge(cfg.state)),
		h('td', { 'data-label': 'Last bootstrap', title: cfg.last_bootstrap_at || '' },
			cfg.last_bootstrap_at ? ago(cfg.last_bootstrap_at) : h('span', { class: 'muted' }, 'never')),
		certs ? h('td', { 'data-label': 'Certificate expires', title: cfg.cert_expires_at || '' }, expiry(cfg)) : null,
		h('td', { class: 'cell-actions' }, actions(ctx, cfg, () => reload()))));
	return h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
		h('caption', { class: 'sr-only' }, 'Bootstrap configurations'),
		h('thead', null, h('tr', null,
			['Name', 'External ID', 'Channels', 'State', 'Last bootstrap', ...(certs ? ['Certificate expires'] : [])]
				.map((t) => h('th', { scope: 'col' }, t)),
			h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
		h('tbody', null, rows)));
}

export const configsPage = {
	id: 'configs',
	title: 'Bootstraps',
	route: /^configs(?:\/(.+))?$/,
	render(ctx, root, match) {
		if (match[1])
			return details(ctx, root, decodeURIComponent(match[1]));
		return listView(ctx, root);
	},
};

function listView(ctx, root) {
	const msg = banner('error');
	const body = h('div', { class: 'list-body', 'aria-live': 'polite', 'aria-busy': 'true' });
	const create = h('button', { type: 'button', class: 'btn primary', 'aria-label': 'Create' }, '+ Create');
	create.addEventListener('click', () => configDialog(ctx.api, null, () => load()));
	const refresh = h('button', { type: 'button', class: 'btn', 'aria-label': 'Refresh' }, 'Refresh');
	replace(root,
		h('div', { class: 'page-head' },
			h('div', null, h('h1', null, 'Bootstraps'),
				h('p', { class: 'muted' }, 'What each device receives when it bootstraps: its client, channels, content and certificates.')),
			h('div', { class: 'head-actions' }, refresh, create)),
		filters(ctx, () => load()),
		msg.el,
		body);
	let last = '';
	let seq = 0;
	async function load(quiet = false) {
		const mine = ++seq;
		const q = { offset: list.offset, limit: list.limit };
		for (const k of ['state', 'name', 'external_id']) {
			if (list[k])
				q[k] = list[k];
		}
		// Computed at each load, so that "within 30 days" stays true to
		// its words on a page left open.
		const before = certExpiresBefore(list.cert_days);
		if (before)
			q.cert_expires_before = before;
		try {
			let page = await ctx.api.call('listConfigs', q);
			if (page.configs.length === 0 && page.total > 0 && list.offset > 0) {
				list.offset = Math.max(0, Math.floor((page.total - 1) / list.limit) * list.limit);
				q.offset = list.offset;
				page = await ctx.api.call('listConfigs', q);
			}
			if (mine !== seq)
				return;
			msg.set('');
			const text = JSON.stringify(page);
			if (quiet && text === last)
				return;
			last = text;
			const filtered = list.state || list.name || list.external_id || before;
			if (page.total === 0) {
				replace(body, h('div', { class: 'empty' },
					h('p', { class: 'strong' }, filtered ? 'No configuration matches these filters.' : 'No bootstrap configurations yet.'),
					filtered ? null : h('p', { class: 'muted' },
						'Create one for each device: its external ID and key are all it needs to bootstrap. Create its channels first, on the Channels page.')));
			} else {
				replace(body, table(ctx, page.configs, () => load()), pager(page.total, () => load()));
			}
			body.setAttribute('aria-busy', 'false');
		} catch (e) {
			if (mine === seq)
				msg.set(`Cannot list the configurations: ${errorText(e)}`);
		}
	}
	refresh.addEventListener('click', () => load());
	load();
	return { refresh: () => load(true) };
}

function pemBlock(text) {
	if (!text)
		return h('span', { class: 'muted' }, 'none');
	const first = text.split('\n')[0];
	return h('details', { class: 'pem' }, h('summary', null, first.startsWith('-----') ? `${first.replace(/-/g, '').trim()} (${text.length} bytes)` : `base64 DER (${text.length} bytes)`),
		h('pre', { class: 'mono' }, text));
}

function dl(pairs) {
	return h('dl', { class: 'props' }, pairs.filter(Boolean).map(([k, v, attrs]) => [
		h('dt', null, k), h('dd', attrs || null, v)]));
}

function details(ctx, root, clientId) {
	const msg = banner('error');
	const body = h('div', { class: 'details-body' });
	replace(root,
		h('p', { class: 'crumbs' }, h('a', { href: '#/configs' }, '\u2190 Bootstraps')),
		msg.el, body);
	let last = '';
	async function load(quiet = false) {
		let cfg;
		try {
			cfg = await ctx.api.call('getConfig', { client_id: clientId });
		} catch (e) {
			msg.set(`Cannot read the configuration ${clientId}: ${errorText(e)}`);
			if (e.code === 'not_found')
				replace(body, h('p', null, h('a', { href: '#/configs' }, 'Back to the list')));
			return;
		}
		msg.set('');
		// The client secret is in every read: it is shown once, at
		// creation, and is kept out of the page afterwards.
		delete cfg.client_secret;
		const text = JSON.stringify(cfg);
		if (quiet && text === last)
			return;
		last = text;
		render(cfg);
	}
	function after(action) {
		if (action === 'delete')
			location.hash = '#/configs';
		else
			load();
	}
	function render(cfg) {
		const rotate = h('button', { type: 'button', class: 'btn small', 'aria-label': 'Rotate secret' }, 'Rotate secret');
		rotate.addEventListener('click', () => rotateSecret(ctx, cfg, () => load()));
		const refresh = h('button', { type: 'button', class: 'btn small', 'aria-label': 'Refresh' }, 'Refresh');
		refresh.addEventListener('click', () => load());
		replace(body,
			h('div', { class: 'page-head' },
				h('div', null,
					h('h1', null, cfg.name || cfg.external_id, ' ', stateBadge(cfg.state)),
					h('p', { class: 'muted mono' }, cfg.external_id)),
				h('div', { class: 'head-actions' }, refresh, rotate, actions(ctx, cfg, after, { withText: true }))),
			h('div', { class: 'cards' },
				h('section', { class: 'card', 'aria-label': 'Device' },
					h('h2', null, 'Device'),
					dl([
						['Name', cfg.name || h('span', { class: 'muted' }, 'Unnamed')],
						['External ID', cfg.external_id, { class: 'mono' }],
						['Client ID', cfg.client_id, { class: 'mono' }],
						['State', stateBadge(cfg.state)],
						['Channels', channelNames(cfg)],
						['Profile', cfg.profile ? h('span', { class: 'mono', 'data-field': 'profile' }, cfg.profile)
							: h('span', { class: 'muted', 'data-field': 'profile' }, 'none')],
						cfg.vars && Object.keys(cfg.vars).length ? ['Vars', varChips(cfg.vars)] : null,
						['Group', cfg.group ? h('span', { class: 'mono', 'data-field': 'group' }, cfg.group)
							: h('span', { class: 'muted', 'data-field': 'group' }, 'none: made by hand')],
						['External key', h('span', { class: 'muted' }, 'write-only: shown once, when set')],
						['Client secret', h('span', { class: 'muted' }, 'shown once, at creation; rotate it to issue a new one')],
					])),
				h('section', { class: 'card', 'aria-label': 'History' },
					h('h2', null, 'History'),
					dl([
						['Last bootstrap', h('span', { 'data-field': 'last_bootstrap_at' }, when(cfg.last_bootstrap_at),
							cfg.last_bootstrap_at ? h('span', { class: 'muted' }, ` (${ago(cfg.last_bootstrap_at)})`) : null)],
						['Created', when(cfg.created_at)],
						['Updated', when(cfg.updated_at)],
					]))),
			h('section', { class: 'card', 'aria-label': 'Content' },
				h('h2', null, 'Content'),
				cfg.content ? h('pre', { class: 'mono content' }, cfg.content) : h('p', { class: 'muted' }, 'empty')),
			h('section', { class: 'card', 'aria-label': 'Encryption settings' },
				h('h2', null, 'Encryption settings'),
				dl([
					['Client certificate', pemBlock(cfg.client_cert)],
					'cert_serial' in cfg && cfg.cert_serial ? ['Certificate serial', cfg.cert_serial, { class: 'mono' }] : null,
					'cert_expires_at' in cfg && cfg.cert_expires_at ? ['Certificate expires', when(cfg.cert_expires_at)] : null,
					['Client key', cfg.has_client_key ? h('span', { 'data-field': 'has_client_key' }, 'stored (write-only: never shown)')
						: h('span', { class: 'muted', 'data-field': 'has_client_key' }, 'none')],
					['CA certificate', pemBlock(cfg.ca_cert)],
				])));
	}
	load();
	return { refresh: () => load(true) };
}

async function rotateSecret(ctx, cfg, after) {
	const yes = await confirmDialog({
		title: 'Issue a new client secret?',
		text: `The device ${cfg.external_id} gets a new client secret; its sessions that logged in with the old one are closed, and it must bootstrap again to learn the new one.`,
		confirmLabel: 'Confirm',
	});
	if (!yes)
		return;
	let data;
	try {
		data = await ctx.api.call('modifyConfig', { client_id: cfg.client_id, rotate_secret: true });
	} catch (e) {
		ctx.report(`Rotate the secret of ${cfg.external_id}: ${errorText(e)}`);
		return;
	}
	const d = openDialog({ title: 'New client secret', onClose: after });
	const input = h('input', { class: 'mono secret', readOnly: true, value: data.client_secret, 'aria-label': 'Device client secret' });
	replace(d.body,
		h('div', { class: 'banner warn', role: 'status' }, 'Shown this once: copy it now if you need it. The device receives it at its next bootstrap.'),
		h('div', { class: 'secret-line' }, input),
		h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn primary', onclick: () => d.close() }, 'Done')));
}
