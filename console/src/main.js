// The console: a login, then the pages of pages/index.js under one
// navigation, over one admin connection (api.js).
import { Admin, brokerUrl } from './api.js';
import { h, replace } from './dom.js';
import { errorText } from './format.js';
import { pages } from './pages/index.js';
import { banner } from './ui.js';

const MAX_EVENTS = 200;
const REFRESH_MS = 10000;

function loginView(app, start) {
	const url = brokerUrl(location);
	const msg = banner('error');
	const user = h('input', { id: 'login-user', type: 'text', autocomplete: 'username', required: true, spellcheck: 'false' });
	const pass = h('input', { id: 'login-pass', type: 'password', autocomplete: 'current-password', required: true });
	const submit = h('button', { type: 'submit', class: 'btn primary wide' }, 'Log in');
	const form = h('form', { class: 'login-card', novalidate: true },
		h('div', { class: 'brand big' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), 'Bootstrap console'),
		h('p', { class: 'muted' }, 'Log in as an admin of the bootstrap plugin (plugin_opt_admin_users).'),
		msg.el,
		h('div', { class: 'field' }, h('label', { for: 'login-user' }, 'Username'), user),
		h('div', { class: 'field' }, h('label', { for: 'login-pass' }, 'Password'), pass),
		submit,
		h('p', { class: 'muted small' }, 'Broker: ', h('span', { class: 'mono' }, url)));
	replace(app, h('main', { class: 'login' }, form));
	if (location.protocol === 'file:') {
		msg.set('Open the console from the broker\'s websockets listener (http_dir), not from a file.');
		submit.disabled = true;
	}
	user.focus();
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		msg.set('');
		if (!user.value) {
			msg.set('Enter the admin\'s username.');
			user.focus();
			return;
		}
		submit.disabled = true;
		submit.textContent = 'Logging in\u2026';
		const api = new Admin(url);
		const password = pass.value;
		try {
			await api.connect(user.value, password);
		} catch (e) {
			submit.disabled = false;
			submit.textContent = 'Log in';
			msg.set(errorText(e));
			pass.focus();
			pass.select();
			return;
		}
		pass.value = '';
		start(api);
	});
}

function shell(app, api) {
	const ctx = {
		api,
		stats: {},
		statsLive: false,
		events: [],
		eventsLive: true,
		report: null,
	};
	const linkBanner = banner('error');
	const report = banner('error');
	const dismiss = h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Dismiss', onclick: () => { reportWrap.hidden = true; } }, '\u00d7');
	const reportWrap = h('div', { class: 'report', hidden: true }, report.el, dismiss);
	ctx.report = (text) => {
		report.set(text);
		reportWrap.hidden = !text;
	};
	const nav = h('nav', { class: 'nav', 'aria-label': 'Console' }, pages.map((p) =>
		h('a', { href: `#/${p.id}`, 'data-page': p.id }, p.title)));
	const status = h('span', { class: 'link up', role: 'status' }, 'Connected');
	const logout = h('button', { type: 'button', class: 'btn small ghost' }, 'Log out');
	const main = h('main', { class: 'content', id: 'content' });
	replace(app,
		h('header', { class: 'top' },
			h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), 'Bootstrap console'),
			nav,
			h('div', { class: 'who' }, status, h('span', { class: 'user', title: api.url }, api.username), logout)),
		linkBanner.el,
		h('div', { class: 'wrap' }, reportWrap, main));

	logout.addEventListener('click', () => {
		api.close();
		// A fresh page: nothing of this session stays in memory.
		location.hash = '';
		location.reload();
	});

	let current = null;
	function route() {
		if (current && current.leave)
			current.leave();
		ctx.report('');
		const path = location.hash.replace(/^#\/?/, '') || 'configs';
		let page = null;
		let match = null;
		for (const p of pages) {
			match = p.route.exec(path);
			if (match) {
				page = p;
				break;
			}
		}
		if (!page) {
			location.hash = '#/configs';
			return;
		}
		for (const a of nav.querySelectorAll('a'))
			a.toggleAttribute('aria-current', a.dataset.page === page.id);
		document.title = `${page.title} \u2013 Bootstrap console`;
		current = page.render(ctx, main, match) || {};
		window.scrollTo(0, 0);
	}
	window.addEventListener('hashchange', route);

	api.addEventListener('link', (e) => {
		if (e.detail.up) {
			linkBanner.set('');
			status.textContent = 'Connected';
			status.className = 'link up';
			if (current && current.refresh)
				current.refresh();
		} else {
			linkBanner.set(`The connection to the broker at ${api.url} is lost: the broker stopped or the network is down. Reconnecting every few seconds\u2026`);
			status.textContent = 'Disconnected';
			status.className = 'link down';
		}
	});
	api.addEventListener('stats', (e) => {
		Object.assign(ctx.stats, e.detail.figures || {});
		if (current && current.onStats)
			current.onStats();
	});
	api.addEventListener('stats-access', (e) => {
		ctx.statsLive = e.detail.ok;
		if (current && current.onStats)
			current.onStats();
	});
	api.addEventListener('events-access', (e) => {
		ctx.eventsLive = e.detail.ok;
	});
	let pendingRefresh = null;
	api.addEventListener('event', (e) => {
		ctx.events.unshift(e.detail);
		ctx.events.length = Math.min(ctx.events.length, MAX_EVENTS);
		if (current && current.onEvent)
			current.onEvent();
		// Another admin (or this page) changed something: show it.
		clearTimeout(pendingRefresh);
		pendingRefresh = setTimeout(() => {
			if (current && current.refresh && !document.querySelector('dialog[open]'))
				current.refresh();
		}, 300);
	});
	setInterval(() => {
		if (api.connected && current && current.refresh && !document.hidden && !document.querySelector('dialog[open]'))
			current.refresh();
	}, REFRESH_MS);
	route();
}

function boot() {
	const app = document.getElementById('app');
	loginView(app, (api) => shell(app, api));
}

if (document.readyState === 'loading')
	document.addEventListener('DOMContentLoaded', boot);
else
	boot();
