// Unknown devices (protocol 7.3): the external IDs that tried to bootstrap
// without a configuration, most recently seen first. One is turned into a
// configuration from its row; the plugin then forgets it.
import { h, replace } from '../dom.js';
import { ago, errorText, when } from '../format.js';
import { banner, confirmDialog, toast } from '../ui.js';
import { configDialog } from './config-form.js';
import { loadPage, pager } from './fleet-parts.js';

const list = { offset: 0, limit: 25 };

export const unknownPage = {
	id: 'unknown',
	title: 'Unknown devices',
	route: /^unknown$/,
	render(ctx, root) {
		const msg = banner('error');
		const body = h('div', { class: 'list-body', 'aria-live': 'polite' });
		const refresh = h('button', { type: 'button', class: 'btn', 'aria-label': 'Refresh' }, 'Refresh');
		refresh.addEventListener('click', () => load());
		const clearAll = h('button', { type: 'button', class: 'btn danger-text', 'aria-label': 'Clear all' }, 'Clear all');
		clearAll.addEventListener('click', async () => {
			const yes = await confirmDialog({ title: 'Forget every unknown device?',
				text: 'The list of unknown devices is emptied. A device that tries again is listed again.' });
			if (!yes)
				return;
			try {
				await ctx.api.call('clearUnknown');
				toast('The unknown devices are forgotten.');
				list.offset = 0;
				load();
			} catch (e) {
				msg.set(`Clear all: ${errorText(e)}`);
			}
		});
		replace(root,
			h('div', { class: 'page-head' },
				h('div', null, h('h1', null, 'Unknown devices'),
					h('p', { class: 'muted' }, 'Devices that tried to bootstrap with an external ID that has no configuration (and did not enroll through a group). Their keys are never kept.')),
				h('div', { class: 'head-actions' }, refresh, clearAll)),
			msg.el, body);
		let last = '';
		async function load(quiet = false) {
			let page;
			try {
				page = await loadPage(ctx.api, 'listUnknown', 'unknown', list);
			} catch (e) {
				msg.set(`Cannot list the unknown devices: ${errorText(e)}`);
				return;
			}
			msg.set('');
			const text = JSON.stringify(page);
			if (quiet && text === last)
				return;
			last = text;
			clearAll.disabled = page.total === 0;
			if (page.total === 0) {
				replace(body, h('div', { class: 'empty' }, h('p', { class: 'strong' }, 'No unknown devices.'),
					h('p', { class: 'muted' }, 'A device that bootstraps with an external ID the plugin has no configuration for is listed here.')));
				return;
			}
			const rows = page.unknown.map((u) => {
				const label = (name) => ({ 'aria-label': name, title: `${name} ${u.external_id}` });
				const make = h('button', { type: 'button', class: 'btn small primary', ...label('Create config') }, 'Create config');
				make.addEventListener('click', () => configDialog(ctx.api, null, () => load(), { external_id: u.external_id }));
				const clear = h('button', { type: 'button', class: 'btn small danger-text', ...label('Clear') }, 'Clear');
				clear.addEventListener('click', async () => {
					const yes = await confirmDialog({ title: 'Forget this device?',
						text: `${u.external_id} leaves the list of unknown devices; it is listed again if it tries again.` });
					if (!yes)
						return;
					try {
						await ctx.api.call('clearUnknown', { external_id: u.external_id });
						toast(`${u.external_id} is forgotten.`);
						load();
					} catch (e) {
						msg.set(`Clear ${u.external_id}: ${errorText(e)}`);
					}
				});
				return h('tr', { 'data-external-id': u.external_id },
					h('td', { 'data-label': 'External ID', class: 'mono strong' }, u.external_id),
					h('td', { 'data-label': 'Attempts', 'data-field': 'attempts' }, String(u.attempts)),
					h('td', { 'data-label': 'Last seen', title: when(u.last_seen) }, ago(u.last_seen) || when(u.last_seen)),
					h('td', { 'data-label': 'First seen', title: when(u.first_seen) }, when(u.first_seen)),
					h('td', { 'data-label': 'Address', class: 'mono' }, u.address || h('span', { class: 'muted' }, 'unknown')),
					h('td', { class: 'cell-actions' }, h('div', { class: 'actions row-actions' }, make, clear)));
			});
			replace(body,
				h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
					h('caption', { class: 'sr-only' }, 'Unknown devices, most recently seen first'),
					h('thead', null, h('tr', null, ['External ID', 'Attempts', 'Last seen', 'First seen', 'Address'].map((t) => h('th', { scope: 'col' }, t)),
						h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
					h('tbody', null, rows))),
				pager(list, page.total, () => load(), 'unknown device', 'unknown devices'));
		}
		load();
		return { refresh: () => load(true) };
	},
};
