// Unknown devices (protocol 7.3): the external IDs that tried to bootstrap
// without a configuration, most recently seen first. One is turned into a
// configuration from its row; the plugin then forgets it.
import { h } from '../dom.js';
import { ago, errorText, when } from '../format.js';
import { confirmDialog, toast } from '../ui.js';
import { configDialog } from './config-form.js';
import { loadPage } from './fleet-parts.js';
import { confirmButton, listPage } from './list-page.js';

const list = { offset: 0, limit: 25 };

export const unknownPage = {
	id: 'unknown',
	title: 'Unknown devices',
	route: /^unknown$/,
	render(ctx, root) {
		const refresh = h('button', { type: 'button', class: 'btn', 'aria-label': 'Refresh' }, 'Refresh');
		refresh.addEventListener('click', () => view.load());
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
				view.load();
			} catch (e) {
				view.msg.set(`Clear all: ${errorText(e)}`);
			}
		});
		const view = listPage(root, {
			heading: 'Unknown devices',
			text: 'Devices that tried to bootstrap with an external ID that has no configuration (and did not enroll through a group). Their keys are never kept.',
			actions: [refresh, clearAll],
			what: 'the unknown devices',
			fetch: () => loadPage(ctx.api, 'listUnknown', 'unknown', list),
			before: (page) => { clearAll.disabled = page.total === 0; },
			items: (page) => page.unknown,
			caption: 'Unknown devices, most recently seen first',
			columns: ['External ID', 'Attempts', 'Last seen', 'First seen', 'Address'],
			empty: ['No unknown devices.', 'A device that bootstraps with an external ID the plugin has no configuration for is listed here.'],
			noun: ['unknown device', 'unknown devices'],
			state: list,
			row: (u, v) => unknownRow(ctx, u, v),
		});
		view.load();
		return { refresh: () => view.load(true) };
	},
};

function unknownRow(ctx, u, view) {
	const make = h('button', { type: 'button', class: 'btn small primary', 'aria-label': 'Create config',
		title: `Create config ${u.external_id}` }, 'Create config');
	make.addEventListener('click', () => configDialog(ctx.api, null, () => view.load(), { external_id: u.external_id }));
	const clear = confirmButton(view, { name: 'Clear', id: u.external_id, title: 'Forget this device?',
		text: `${u.external_id} leaves the list of unknown devices; it is listed again if it tries again.`,
		run: () => ctx.api.call('clearUnknown', { external_id: u.external_id }),
		done: `${u.external_id} is forgotten.` });
	return h('tr', { 'data-external-id': u.external_id },
		h('td', { 'data-label': 'External ID', class: 'mono strong' }, u.external_id),
		h('td', { 'data-label': 'Attempts', 'data-field': 'attempts' }, String(u.attempts)),
		h('td', { 'data-label': 'Last seen', title: when(u.last_seen) }, ago(u.last_seen) || when(u.last_seen)),
		h('td', { 'data-label': 'First seen', title: when(u.first_seen) }, when(u.first_seen)),
		h('td', { 'data-label': 'Address', class: 'mono' }, u.address || h('span', { class: 'muted' }, 'unknown')),
		h('td', { class: 'cell-actions' }, h('div', { class: 'actions row-actions' }, make, clear)));
}
