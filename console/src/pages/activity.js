// Activity: the statistics and events of protocol section 8, live.
import { h, replace } from '../dom.js';
import { errorText, when } from '../format.js';
import { banner } from '../ui.js';

const POLL_MS = 5000;

const GROUPS = [
	['Device requests since start', [
		['requests_ok', 'Bootstrapped', 'ok'],
		['requests_unauthorized', 'Wrong ID or key', 'bad'],
		['requests_disabled', 'Config disabled', 'warn'],
		['requests_invalid', 'Invalid requests', 'warn'],
		['requests_rate_limited', 'Locked out', 'bad'],
		['requests_error', 'Store errors', 'bad'],
		['challenges', 'Challenges issued', ''],
	]],
	['Now', [
		['configs_enabled', 'Configs enabled', 'ok'],
		['configs_disabled', 'Configs disabled', ''],
		['clients_connected', 'Devices connected', 'ok'],
		['lockouts_active', 'Lockouts active', 'bad'],
		['unknown', 'Unknown devices', ''],
	]],
	['Fleet since start', [
		['enrolled', 'Enrolled by groups', ''],
		['certificates_issued', 'Certificates issued', ''],
	]],
];

export const activityPage = {
	id: 'activity',
	title: 'Activity',
	route: /^activity$/,
	render(ctx, root) {
		const msg = banner('error');
		const note = h('p', { class: 'muted small', 'data-source': '' });
		const values = {};
		const groups = GROUPS.map(([title, items]) => h('section', { class: 'card', 'aria-label': title },
			h('h2', null, title),
			h('div', { class: 'stats' }, items.map(([key, label, tone]) => {
				values[key] = h('span', { class: 'stat-value', 'data-stat': key }, '\u2013');
				return h('div', { class: `stat ${tone}` }, values[key], h('span', { class: 'stat-label' }, label));
			}))));
		const feed = h('tbody');
		const feedEmpty = h('p', { class: 'muted' }, 'No admin change since you logged in.');
		const feedTable = h('div', { class: 'table-wrap', hidden: true }, h('table', { class: 'list events' },
			h('caption', { class: 'sr-only' }, 'Events'),
			h('thead', null, h('tr', null, ['At', 'Event', 'User', 'Target', 'Result'].map((t) => h('th', { scope: 'col' }, t)))),
			feed));
		replace(root,
			h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Activity'),
				h('p', { class: 'muted' }, 'The plugin\'s statistics and every admin change, as they happen.'))),
			msg.el,
			h('div', { class: 'cards three' }, groups),
			note,
			h('section', { class: 'card', 'aria-label': 'Events' },
				h('h2', null, 'Events'), feedEmpty, feedTable));

		const show = () => {
			for (const [k, el] of Object.entries(values)) {
				const v = ctx.stats[k];
				el.textContent = typeof v === 'number' ? v.toLocaleString('en') : '\u2013';
			}
			note.textContent = ctx.statsLive
				? `Live from $SYS/broker/bootstrap/ (published every stats_interval seconds) and getStats every ${POLL_MS / 1000} s.`
				: `Read with getStats every ${POLL_MS / 1000} s. This user may not read $SYS/broker/bootstrap/#: grant it in the broker's ACL for live figures.`;
		};
		const row = (ev) => h('tr', null,
			h('td', { 'data-label': 'At' }, when(ev.at, '')),
			h('td', { 'data-label': 'Event', class: 'mono' }, ev.event),
			h('td', { 'data-label': 'User' }, ev.user),
			h('td', { 'data-label': 'Target', class: 'mono' }, ev.target),
			h('td', { 'data-label': 'Result' }, h('span', { class: ev.result === 'ok' ? 'state state-enabled' : 'state state-error' }, ev.result)));
		const showEvents = () => {
			replace(feed, ctx.events.map(row));
			feedTable.hidden = ctx.events.length === 0;
			feedEmpty.hidden = ctx.events.length !== 0;
			if (!ctx.eventsLive)
				feedEmpty.textContent = 'This user may not read $CONTROL/bootstrap/v1/events.';
		};
		const poll = async () => {
			try {
				const figures = await ctx.api.call('getStats');
				Object.assign(ctx.stats, figures);
				msg.set('');
				show();
			} catch (e) {
				msg.set(`Cannot read the statistics: ${errorText(e)}`);
			}
		};
		show();
		showEvents();
		poll();
		const timer = setInterval(poll, POLL_MS);
		return {
			onStats: show,
			onEvent: showEvents,
			leave: () => clearInterval(timer),
		};
	},
};
