// The web console in a real browser: Debian's chromium, headless, driven
// by puppeteer-core, against a real mosquitto with the plugin, started here
// on free loopback ports (MQTT, WebSockets, WebSockets over TLS) in a
// throwaway directory, serving the built console from its http_dir.
//
// The whole life of a config from the console alone: log in, create a
// channel and a config through the dialog with a certificate and key read
// from files, see it disabled, enable it, bootstrap the device with a real
// MQTT client (mosquitto_rr) and see last_bootstrap_at and the statistics
// change, edit its channels, delete it. And: a wrong password, a user who
// is not an admin, a command the API refuses, a name made of markup, a
// broker that goes away and comes back, the console over https and wss.
//
// Then, as a group of its own, the fleet pages of protocol section 7:
// a profile with a template, channels and vars; a config made from it; an
// enrollment group whose key is shown once, proven by a device that
// enrolls with the key derived from it; the key rotated after a
// confirmation; the unknown devices listed, one turned into a config from
// its row, the others cleared. Each of these fails with the page's own
// words when the plugin does not answer the section 7 commands.
//
// Run from the repository's top directory after `make console`:
//   node test/console/browser.mjs
// Environment: IT_PLUGIN (the plugin, as for the integration tests),
// CONSOLE_DIR (default build/console), CHROMIUM (default /usr/bin/chromium),
// SHOTS_DIR (where the screenshots go; default build/console-shots; `make
// console-screenshots` sets docs). Ends with "console: N passed, M failed".
import { execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const require = createRequire(resolve('console/package.json'));
const puppeteer = require('puppeteer-core');
const mqtt = require('mqtt');
const run = promisify(execFile);

const ADMIN = 'admin';
const ADMIN_PW = 'console-admin-pw';
const T = 8000;
const started = Date.now();
const consoleDir = resolve(process.env.CONSOLE_DIR || 'build/console');
const pluginPath = resolve(process.env.IT_PLUGIN || 'plugin/mosquitto_bootstrap.so');
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const shotsDir = resolve(process.env.SHOTS_DIR || 'build/console-shots');

let passed = 0;
let failed = 0;
// The fleet group's own results, listed apart before the total.
const fleet = { on: false, passed: 0, failed: [] };
function finish(code) {
	if (fleet.passed + fleet.failed.length > 0) {
		console.log(`fleet pages (protocol section 7): ${fleet.passed} passed, ${fleet.failed.length} failed`);
		for (const f of fleet.failed)
			console.log(`  failed: ${f}`);
	}
	console.log(`console: ${passed} passed, ${failed} failed`);
	process.exit(code);
}
for (const [what, path] of [['the built console', join(consoleDir, 'index.html')], ['the plugin', pluginPath], ['chromium', chromium]]) {
	if (!existsSync(path)) {
		console.log(`${what} is missing: ${path} (make console; make; apt-get install chromium)`);
		failed += 1;
		finish(1);
	}
}

// ---- a broker of our own --------------------------------------------------

function freePort() {
	return new Promise((res, rej) => {
		const s = net.createServer();
		s.on('error', rej);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => res(port));
		});
	});
}

function portOpen(port) {
	return new Promise((res) => {
		const c = net.connect(port, '127.0.0.1');
		c.on('connect', () => { c.destroy(); res(true); });
		c.on('error', () => res(false));
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync('/tmp/bs-console-');
const broker = { proc: null, mqtt: 0, ws: 0, wss: 0 };

async function prepare() {
	cpSync(consoleDir, join(dir, 'console'), { recursive: true });
	await run('mosquitto_passwd', ['-b', '-c', join(dir, 'passwd'), ADMIN, ADMIN_PW]);
	await run('mosquitto_passwd', ['-b', join(dir, 'passwd'), 'alice', 'alice-pw']);
	// The broker's own TLS certificate for the wss:// listener.
	await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
		'-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.pem'), '-days', '2',
		'-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
	// The device's certificate and key, read by the dialog from files.
	await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
		'-keyout', join(dir, 'device.key'), '-out', join(dir, 'device.pem'), '-days', '2', '-subj', '/CN=boiler-room']);
	broker.mqtt = await freePort();
	broker.ws = await freePort();
	broker.wss = await freePort();
	writeFileSync(join(dir, 'mosquitto.conf'), [
		'per_listener_settings false',
		'user root',
		'persistence false',
		`log_dest file ${dir}/mosquitto.log`,
		'log_type all',
		`listener ${broker.mqtt} 127.0.0.1`,
		'allow_anonymous true',
		`listener ${broker.ws} 127.0.0.1`,
		'protocol websockets',
		`http_dir ${dir}/console`,
		`listener ${broker.wss} 127.0.0.1`,
		'protocol websockets',
		`http_dir ${dir}/console`,
		`certfile ${dir}/server.pem`,
		`keyfile ${dir}/server.key`,
		`password_file ${dir}/passwd`,
		`plugin ${pluginPath}`,
		`plugin_opt_db_path ${dir}/bootstrap.db`,
		`plugin_opt_key_file ${dir}/bootstrap.key`,
		`plugin_opt_admin_users ${ADMIN}`,
		'plugin_opt_client_auth true',
		'plugin_opt_acl_default allow',
		'plugin_opt_stats_interval 1',
		'',
	].join('\n'));
}

async function startBroker() {
	broker.proc = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
	const exited = new Promise((r) => broker.proc.once('exit', () => r(true)));
	for (let i = 0; i < 100; i++) {
		if (await portOpen(broker.mqtt) && await portOpen(broker.ws) && await portOpen(broker.wss))
			return;
		if (await Promise.race([exited, sleep(50).then(() => false)]))
			break;
	}
	throw new Error(`the broker did not start: ${readLog()}`);
}

function stopBroker() {
	return new Promise((r) => {
		if (!broker.proc || broker.proc.exitCode !== null)
			return r();
		broker.proc.once('exit', () => r());
		broker.proc.kill('SIGTERM');
	});
}

function readLog() {
	try {
		return readFileSync(join(dir, 'mosquitto.log'), 'utf8').split('\n').slice(-15).join('\n');
	} catch {
		return '(no log)';
	}
}

// One admin command over MQTT, beside the console (to seed and to check).
async function admin(commands) {
	const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.mqtt}`, {
		protocolVersion: 5, username: ADMIN, password: ADMIN_PW, reconnectPeriod: 0,
	});
	try {
		const topic = `$CONTROL/bootstrap/v1/response/test-${process.pid}`;
		const answer = new Promise((res, rej) => {
			c.on('message', (t, payload) => res(JSON.parse(payload.toString())));
			setTimeout(() => rej(new Error('no admin answer')), 5000);
		});
		await c.publishAsync('$CONTROL/bootstrap/v1', JSON.stringify({ commands }),
			{ qos: 1, properties: { responseTopic: topic, correlationData: Buffer.from('1') } });
		return (await answer).responses;
	} finally {
		await c.endAsync();
	}
}

// ---- checks ----------------------------------------------------------------

let page;
let browser;
const dialogsFired = [];
const pageErrors = [];

async function check(name, fn) {
	try {
		await fn();
		passed += 1;
		if (fleet.on)
			fleet.passed += 1;
		console.log(`ok - ${name}`);
	} catch (e) {
		failed += 1;
		if (fleet.on)
			fleet.failed.push(name);
		console.log(`FAIL - ${name}: ${e && e.message ? e.message.split('\n')[0] : e}`);
		try {
			mkdirSync(join(dir, 'failures'), { recursive: true });
			await page.screenshot({ path: join(dir, 'failures', `${failed}.png`) });
			console.log(`  page: ${(await page.evaluate(() => document.body.innerText)).replace(/\s+/g, ' ').slice(0, 400)}`);
		} catch {
			// No page to show.
		}
	}
}

function assert(cond, what) {
	if (!cond)
		throw new Error(what);
}

// The open dialog, and a control in it by its accessible name.
async function dialog() {
	return page.waitForSelector('dialog[open]', { timeout: T });
}
async function control(scope, name) {
	const el = await scope.waitForSelector(`aria/${name}`, { timeout: T });
	assert(el, `no control named "${name}"`);
	return el;
}
async function fill(scope, name, text) {
	const el = await control(scope, name);
	await el.click({ clickCount: 3 });
	await el.evaluate((e) => {
		e.value = '';
		e.dispatchEvent(new Event('input', { bubbles: true }));
	});
	await el.type(text);
}
async function row(externalId) {
	return page.waitForSelector(`::-p-xpath(//table//tr[td[normalize-space()=${JSON.stringify(externalId)}]])`, { timeout: T });
}
async function rowText(externalId) {
	return (await row(externalId)).evaluate((r) => r.innerText);
}
async function waitText(text, timeout = T) {
	await page.waitForFunction((t) => document.body.innerText.includes(t), { timeout }, text);
}
async function go(hash) {
	await page.evaluate((h) => { location.hash = h; }, hash);
}
async function shot(name, { full = false } = {}) {
	mkdirSync(shotsDir, { recursive: true });
	// The toasts of earlier steps would cover the page.
	await page.evaluate(() => document.getElementById('toasts').replaceChildren());
	await sleep(150);
	await page.screenshot({ path: join(shotsDir, name), fullPage: full });
	assert(readFileSync(join(shotsDir, name)).length > 5000, `${name} is empty`);
}
// Waits for selector, or for the page's error banner, whose words then
// fail the check (a plugin without a command says so there).
async function orPageError(selector, timeout = T) {
	const got = await page.waitForFunction((sel) => {
		if (document.querySelector(sel))
			return 'found';
		const b = Array.from(document.querySelectorAll('.banner.error')).find((e) => !e.hidden && e.textContent);
		return b ? `the page says: ${b.textContent}` : null;
	}, { timeout }, selector);
	const what = await got.jsonValue();
	if (what !== 'found')
		throw new Error(what);
	return page.$(selector);
}
// Waits for the profile picker of dialog d to offer id, or fails with
// the words its hint says when the profiles cannot be listed.
async function profileOption(d, id) {
	const got = await page.waitForFunction((want) => {
		const dlg = document.querySelector('dialog[open]');
		if (!dlg)
			return null;
		if (dlg.querySelector(`select option[value="${want}"]`))
			return 'found';
		const hint = Array.from(dlg.querySelectorAll('.hint')).find((e) => /cannot be listed/.test(e.textContent));
		return hint ? `the dialog says: ${hint.textContent}` : null;
	}, { timeout: T }, id);
	const what = await got.jsonValue();
	if (what !== 'found')
		throw new Error(what);
}
// The device key of a group, as the factory derives it (protocol 7.2).
function derivedKey(groupKey, externalId) {
	return createHmac('sha256', Buffer.from(groupKey, 'utf8')).update(externalId).digest('base64url');
}
async function bootstrapRaw(request) {
	const { stdout } = await run('mosquitto_rr', ['-h', '127.0.0.1', '-p', String(broker.mqtt), '-W', '5',
		'-t', 'bootstrap/req', '-e', `bootstrap/res/${request.external_id}`, '-m', JSON.stringify(request)]);
	return JSON.parse(stdout);
}
async function logIn(user, password) {
	await fill(page, 'Username', user);
	await fill(page, 'Password', password);
	await (await control(page, 'Log in')).click();
}

const EXT = '00:1A:2B:3C:4D:5E';
const XSS = '<img src=x onerror=alert(1)>';
let externalKey = '';
let clientId = '';

async function main() {
	await prepare();
	await startBroker();
	// A small fleet, so that the list looks like one.
	const seed = await admin([
		{ command: 'createChannel', id: 'alarms', name: 'Alarms', metadata: { retention: '7d' } },
		{ command: 'createChannel', id: 'firmware', name: 'Firmware' },
		{ command: 'createConfig', external_id: 'A4:CF:12:00:10:01', name: 'Pump 7', channels: ['alarms'], content: '{"interval": 10}' },
		{ command: 'createConfig', external_id: 'A4:CF:12:00:10:02', name: 'Cold store door', channels: ['alarms', 'firmware'] },
		{ command: 'createConfig', external_id: 'SN-2024-000417', name: 'Gateway, loading bay' },
	]);
	assert(seed.every((r) => !r.error), `seeding failed: ${JSON.stringify(seed)}`);
	await admin([{ command: 'enableConfig', client_id: seed[2].data.client_id },
		{ command: 'enableConfig', client_id: seed[4].data.client_id }]);

	browser = await puppeteer.launch({
		executablePath: chromium,
		headless: true,
		args: [
			...(process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : []),
			'--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--ignore-certificate-errors',
		],
	});
	page = await browser.newPage();
	page.setDefaultTimeout(T);
	// What the page sends to the broker, as text, so that a check can see
	// the fields of a command (its MQTT frames carry the JSON as it is).
	await page.evaluateOnNewDocument(() => {
		const send = WebSocket.prototype.send;
		const decoder = new TextDecoder();
		window.sentText = [];
		WebSocket.prototype.send = function sendAndKeep(data) {
			try {
				const bytes = data instanceof ArrayBuffer ? new Uint8Array(data)
					: ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
				window.sentText.push(bytes ? decoder.decode(bytes) : String(data));
			} catch {
				// Not text: nothing to keep.
			}
			return send.call(this, data);
		};
	});
	await page.setViewport({ width: 1280, height: 800 });
	page.on('dialog', async (d) => {
		dialogsFired.push(d.message());
		await d.dismiss();
	});
	page.on('pageerror', (e) => pageErrors.push(e.message));
	page.on('console', (m) => {
		if (m.type() === 'error' && !/favicon|404 \(Not Found\)|ERR_CONNECTION_REFUSED|WebSocket connection/.test(m.text()))
			pageErrors.push(m.text());
	});
	const base = `http://127.0.0.1:${broker.ws}/`;

	await check('the broker serves the console, with its Content-Security-Policy', async () => {
		await page.goto(base, { waitUntil: 'domcontentloaded' });
		await control(page, 'Username');
		const csp = await page.$eval('meta[http-equiv="Content-Security-Policy"]', (m) => m.content);
		assert(/default-src 'none'/.test(csp) && /connect-src 'self'/.test(csp) && /script-src 'self'/.test(csp),
			`CSP is ${csp}`);
	});

	await check('a wrong password says so', async () => {
		await logIn(ADMIN, 'not-the-password');
		await waitText('Wrong username or password');
		await shot('console-login.png');
	});

	await check('a user who is not an admin is told so', async () => {
		await logIn('alice', 'alice-pw');
		await waitText('is not an admin of the bootstrap plugin', 15000);
	});

	await check('the admin logs in; the password is not kept', async () => {
		await logIn(ADMIN, ADMIN_PW);
		await page.waitForSelector('::-p-xpath(//h1[normalize-space()="Bootstraps"])');
		await row('A4:CF:12:00:10:01');
		const kept = await page.evaluate((pw) => {
			const inDom = document.documentElement.outerHTML.includes(pw) ||
				Array.from(document.querySelectorAll('input, textarea')).some((i) => i.value.includes(pw));
			return inDom || localStorage.length > 0 || sessionStorage.length > 0 || document.cookie !== '';
		}, ADMIN_PW);
		assert(!kept, 'the password or session data is kept in the page or in storage');
	});

	await check('a channel is created on the Channels page', async () => {
		await (await page.waitForSelector('nav a[data-page="channels"]')).click();
		await (await control(page, 'Create')).click();
		const d = await dialog();
		await fill(d, 'ID', 'telemetry');
		await fill(d, 'Name', 'Telemetry');
		await fill(d, 'Metadata', '{"unit": "C"}');
		await (await control(d, 'Save')).click();
		await page.waitForSelector('tr[data-channel-id="telemetry"]');
		const t = await page.$eval('tr[data-channel-id="telemetry"]', (r) => r.innerText);
		assert(t.includes('Telemetry') && t.includes('"unit":"C"'), `row: ${t}`);
	});

	await check('a config is created through the dialog, certificate and key read from files', async () => {
		await (await page.waitForSelector('nav a[data-page="configs"]')).click();
		await page.waitForSelector('::-p-xpath(//h1[normalize-space()="Bootstraps"])');
		await (await control(page, 'Create')).click();
		const d = await dialog();
		await fill(d, 'Name', 'Boiler room');
		await fill(d, 'External ID', EXT);
		await (await d.waitForSelector('::-p-xpath(.//button[normalize-space()="Generate"])')).click();
		const key = await (await control(d, 'External key')).evaluate((e) => e.value);
		assert(key.length >= 40, `generated key: ${key}`);
		await (await control(d, 'Channels')).select('telemetry');
		await fill(d, 'Content', '{"interval": 30, "server": "mqtts://broker.example:8883"}');
		await (await d.waitForSelector('summary')).click();
		// A file input's accessible name is on a node of its own shadow
		// tree, which puppeteer's aria/ query does not return.
		const file = (name) => d.waitForSelector(`input[type="file"][aria-label="${name}"]`);
		await (await file('Certificate file')).uploadFile(join(dir, 'device.pem'));
		await (await file('Key file')).uploadFile(join(dir, 'device.key'));
		await (await file('CA file')).uploadFile(join(dir, 'server.pem'));
		const certText = readFileSync(join(dir, 'device.pem'), 'utf8');
		await page.waitForFunction((want) => {
			const a = document.querySelectorAll('dialog[open] textarea');
			return Array.from(a).some((t) => t.value === want);
		}, { timeout: T }, certText);
		const areas = await d.$$eval('textarea', (a) => a.map((t) => t.value));
		assert(areas.some((v) => v.includes('PRIVATE KEY')), 'the key file was not read');
		await shot('console-create.png');
		await (await control(d, 'Save')).click();
		await page.waitForSelector('[data-secrets]');
		externalKey = await (await control(d, 'Device external key')).evaluate((e) => e.value);
		const secret = await (await control(d, 'Device client secret')).evaluate((e) => e.value);
		assert(externalKey === key, 'the external key shown is not the one generated');
		assert(secret.length >= 20, 'no client secret shown');
		await shot('console-secrets.png');
		await (await d.waitForSelector('::-p-xpath(.//button[normalize-space()="Done"])')).click();
		await page.waitForFunction(() => !document.querySelector('dialog[open]'));
		const got = await admin([{ command: 'getConfig', external_id: EXT }]);
		const cfg = got[0].data;
		assert(cfg && cfg.client_cert && cfg.client_cert.trim() === certText.trim(), 'client_cert is not the file');
		assert(cfg.has_client_key === true && cfg.ca_cert, 'no client key or CA stored');
		assert(cfg.content.includes('"interval": 30'), 'content not stored');
		clientId = cfg.client_id;
	});

	await check('it is listed disabled, and its secrets are gone from the page', async () => {
		const t = await rowText(EXT);
		assert(/\bdisabled\b/.test(t) && t.includes('Boiler room') && t.includes('Telemetry'), `row: ${t}`);
		const cls = await (await row(EXT)).$eval('.state', (s) => [s.className, getComputedStyle(s).color]);
		assert(cls[0].includes('state-disabled'), `state badge: ${cls}`);
		const shown = await page.evaluate((k) => document.documentElement.outerHTML.includes(k) ||
			Array.from(document.querySelectorAll('input, textarea')).some((i) => i.value.includes(k)), externalKey);
		assert(!shown, 'the external key is still in the page');
	});

	await check('a duplicate external ID is refused, in words, next to the field', async () => {
		await (await control(page, 'Create')).click();
		const d = await dialog();
		await fill(d, 'External ID', EXT);
		await (await control(d, 'Save')).click();
		const err = await page.waitForFunction(() => {
			const input = Array.from(document.querySelectorAll('dialog[open] input')).find((i) => i.getAttribute('aria-invalid') === 'true');
			if (!input)
				return null;
			const msg = document.getElementById(`${input.id}-err`);
			const label = document.querySelector(`label[for="${input.id}"]`);
			return msg && !msg.hidden ? `${label.textContent}|${msg.textContent}` : null;
		}, { timeout: T });
		const [label, text] = (await err.jsonValue()).split('|');
		assert(label === 'External ID', `the error is next to ${label}`);
		assert(/Already exists/.test(text) && /external_id/.test(text), `error text: ${text}`);
		await (await control(d, 'Close')).click();
	});

	await check('a name made of markup is shown as text', async () => {
		await admin([{ command: 'createConfig', external_id: 'xss-device', name: XSS }]);
		await (await control(page, 'Refresh')).click();
		const t = await rowText('xss-device');
		assert(t.includes(XSS), `row: ${t}`);
		await (await (await row('xss-device')).$('a')).click();
		await waitText('xss-device');
		await page.waitForSelector('::-p-xpath(//h1[contains(., "onerror")])');
		const imgs = await page.$$eval('img', (a) => a.length);
		assert(imgs === 0, `${imgs} img elements in the page`);
		await sleep(200);
		assert(dialogsFired.length === 0, `a dialog fired: ${dialogsFired}`);
		await (await control(page, 'Delete')).click();
		await (await control(await dialog(), 'Confirm')).click();
		await page.waitForSelector('::-p-xpath(//h1[normalize-space()="Bootstraps"])');
	});

	await check('the list filters by state, name and external ID, with totals', async () => {
		// Waits until the list shows exactly these external IDs, and total.
		const shows = (want) => page.waitForFunction((w) => {
			const e = document.querySelector('[data-total]');
			const got = Array.from(document.querySelectorAll('table.list tbody tr td:nth-child(2)'), (td) => td.textContent);
			return e && Number(e.dataset.total) === w.length && JSON.stringify(got.sort()) === JSON.stringify(w);
		}, { timeout: T }, [...want].sort());
		const all = ['A4:CF:12:00:10:01', 'A4:CF:12:00:10:02', 'SN-2024-000417', EXT];
		await shows(all);
		const state = await control(page, 'State');
		await state.select('enabled');
		await shows(['A4:CF:12:00:10:01', 'SN-2024-000417']);
		await state.select('disabled');
		await shows(['A4:CF:12:00:10:02', EXT]);
		await state.select('');
		await fill(page, 'Search', 'PUMP');
		await shows(['A4:CF:12:00:10:01']);
		await fill(page, 'Search', '');
		await fill(page, 'Device ID', EXT);
		await shows([EXT]);
		await fill(page, 'Device ID', '');
		await shows(all);
		const text = await page.$eval('[data-total]', (e) => e.textContent);
		assert(text === '1\u20134 of 4 configurations', `total: ${text}`);
	});

	await check('the certificate expiry filter sends cert_expires_before, only while set', async () => {
		// The listConfigs commands sent from now on.
		const sentLists = () => page.evaluate(() => window.sentText.join('')
			.split('"command":"listConfigs"').slice(1));
		const before = (text) => (/"cert_expires_before":"([^"]+)"/.exec(text) || [])[1];
		await page.evaluate(() => { window.sentText.length = 0; });
		const asked = Date.now();
		await fill(page, 'Certificate expires within N days', '30');
		await page.waitForFunction(() => window.sentText.join('').includes('cert_expires_before'), { timeout: T });
		const sent = (await sentLists()).map(before).filter(Boolean);
		assert(sent.length > 0, 'no listConfigs with cert_expires_before');
		const at = Date.parse(sent[sent.length - 1]);
		const want = asked + 30 * 86400000;
		assert(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(sent[sent.length - 1]), `not RFC 3339: ${sent}`);
		assert(Math.abs(at - want) < 120000, `cert_expires_before ${sent} is not 30 days from now`);
		await page.evaluate(() => { window.sentText.length = 0; });
		await fill(page, 'Certificate expires within N days', '');
		await page.waitForFunction(() => window.sentText.join('').includes('"listConfigs"'), { timeout: T });
		const after = await sentLists();
		assert(after.length > 0 && after.every((t) => !before(t)), 'cert_expires_before is still sent once cleared');
		await page.waitForFunction((n) => {
			const e = document.querySelector('[data-total]');
			return e && Number(e.dataset.total) === n;
		}, { timeout: T }, 4);
	});

	await check('it is enabled from the list', async () => {
		await (await (await row(EXT)).$('aria/Enable')).click();
		await page.waitForFunction((ext) => {
			const r = Array.from(document.querySelectorAll('table tr')).find((tr) => tr.innerText.includes(ext));
			return r && /\benabled\b/.test(r.innerText);
		}, { timeout: T }, EXT);
	});

	await check('the device bootstraps; last_bootstrap_at and the statistics show it', async () => {
		const { stdout } = await run('mosquitto_rr', ['-h', '127.0.0.1', '-p', String(broker.mqtt), '-W', '5',
			'-t', 'bootstrap/req', '-e', `bootstrap/res/${EXT}`,
			'-m', JSON.stringify({ external_id: EXT, external_key: externalKey, id: 'r1' })]);
		const reply = JSON.parse(stdout);
		assert(reply.client_id === clientId && reply.channels[0].id === 'telemetry', `reply: ${stdout}`);
		await (await (await row(EXT)).$('a')).click();
		await page.waitForSelector('[data-field="last_bootstrap_at"]');
		await page.waitForFunction(() => !/never/.test(document.querySelector('[data-field="last_bootstrap_at"]').textContent),
			{ timeout: 12000 });
		const has = await page.$eval('[data-field="has_client_key"]', (e) => e.textContent);
		assert(/stored/.test(has), `has_client_key shows ${has}`);
		await (await page.waitForSelector('nav a[data-page="activity"]')).click();
		await page.waitForFunction(() => {
			const e = document.querySelector('[data-stat="requests_ok"]');
			return e && e.textContent === '1';
		}, { timeout: 8000 });
		await page.waitForFunction(() => document.querySelector('[data-stat="configs_enabled"]').textContent === '3');
		await waitText('enableConfig');
		await shot('console-activity.png');
	});

	await check('its channels are edited', async () => {
		await go(`#/configs/${encodeURIComponent(clientId)}`);
		await page.waitForSelector('[data-field="last_bootstrap_at"]');
		await (await control(page, 'Edit')).click();
		const d = await dialog();
		await page.waitForSelector('dialog[open] select[multiple]');
		await (await control(d, 'Channels')).select('telemetry', 'alarms');
		await (await control(d, 'Save')).click();
		await page.waitForFunction(() => !document.querySelector('dialog[open]'));
		await page.waitForFunction(() => {
			const chips = Array.from(document.querySelectorAll('.chip')).map((c) => c.textContent);
			return chips.includes('Alarms') && chips.includes('Telemetry');
		}, { timeout: T });
		const got = await admin([{ command: 'getConfig', client_id: clientId }]);
		const ids = got[0].data.channels.map((c) => c.id).sort();
		assert(JSON.stringify(ids) === '["alarms","telemetry"]', `channels: ${ids}`);
		const secretShown = await page.evaluate((s) => document.body.innerText.includes(s), got[0].data.client_secret);
		assert(!secretShown, 'the client secret is shown in the details');
		await shot('console-details.png', { full: true });
	});

	await check('a new client secret is shown once', async () => {
		const before = (await admin([{ command: 'getConfig', client_id: clientId }]))[0].data.client_secret;
		await (await control(page, 'Rotate secret')).click();
		await (await control(await dialog(), 'Confirm')).click();
		await page.waitForFunction(() => {
			const i = document.querySelector('dialog[open] input.secret');
			return i && i.value.length > 20;
		}, { timeout: T });
		const shown = await page.$eval('dialog[open] input.secret', (i) => i.value);
		const after = (await admin([{ command: 'getConfig', client_id: clientId }]))[0].data.client_secret;
		assert(shown === after && after !== before, 'the secret shown is not the new one');
		await (await page.waitForSelector('::-p-xpath(//dialog[@open]//button[normalize-space()="Done"])')).click();
		await page.waitForFunction(() => !document.querySelector('dialog[open]'));
		const still = await page.evaluate((k) => document.documentElement.outerHTML.includes(k) ||
			Array.from(document.querySelectorAll('input')).some((i) => i.value === k), after);
		assert(!still, 'the secret is still in the page');
	});

	await check('the list shows the bootstrap, and is usable on a narrow screen', async () => {
		await go('#/configs');
		await page.waitForFunction((ext) => {
			const r = Array.from(document.querySelectorAll('table tr')).find((tr) => tr.innerText.includes(ext));
			return r && !/never/.test(r.innerText);
		}, { timeout: T }, EXT);
		await shot('console-list.png');
		await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 1 });
		await row(EXT);
		const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
		assert(overflow <= 0, `the page is ${overflow} px wider than the screen`);
		const enable = await (await row(EXT)).$('aria/Disable');
		const box = await enable.boundingBox();
		assert(box && box.x >= 0 && box.x + box.width <= 390, 'the row actions are off screen');
		await shot('console-narrow.png');
		await page.setViewport({ width: 1280, height: 800 });
	});

	await check('it is deleted, after a confirmation', async () => {
		await (await (await row(EXT)).$('aria/Delete')).click();
		const d = await dialog();
		const text = await d.evaluate((e) => e.innerText);
		assert(text.includes(EXT), 'the confirmation does not name the device');
		await (await control(d, 'Confirm')).click();
		await page.waitForFunction((ext) => !document.body.innerText.includes(ext), { timeout: T }, EXT);
		const got = await admin([{ command: 'getConfig', client_id: clientId }]);
		assert(got[0].error === 'not_found', `getConfig after delete: ${JSON.stringify(got[0])}`);
	});

	await check('a broker that stops is reported, and the console reconnects', async () => {
		await stopBroker();
		await waitText('connection to the broker', 8000);
		const status = await page.$eval('.link', (e) => e.textContent);
		assert(status === 'Disconnected', `status: ${status}`);
		await startBroker();
		await page.waitForFunction(() => document.querySelector('.link').textContent === 'Connected', { timeout: 12000 });
		await (await control(page, 'Refresh')).click();
		await row('A4:CF:12:00:10:01');
	});

	await check('the console works over https and wss', async () => {
		// Mosquitto 2.0.11's TLS websockets listener offers HTTP/2 (ALPN
		// h2, from libwebsockets) but cannot serve http_dir files over it:
		// a browser that takes h2 gets ERR_HTTP2_PROTOCOL_ERROR for the page
		// (the README says what to do). Over HTTP/1.1 the page and its wss://
		// connection work, which is what this checks.
		const b2 = await puppeteer.launch({ executablePath: chromium, headless: true, args: [
			...(process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : []),
			'--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--ignore-certificate-errors', '--disable-http2'] });
		const p2 = await b2.newPage();
		p2.setDefaultTimeout(T);
		p2.on('pageerror', (e) => pageErrors.push(e.message));
		try {
			await p2.goto(`https://127.0.0.1:${broker.wss}/`, { waitUntil: 'domcontentloaded' });
			const url = await p2.$eval('.login-card .mono', (e) => e.textContent);
			assert(url === `wss://127.0.0.1:${broker.wss}/`, `connects to ${url}`);
			const user = await p2.waitForSelector('aria/Username');
			await user.type(ADMIN);
			await (await p2.waitForSelector('aria/Password')).type(ADMIN_PW);
			await (await p2.waitForSelector('aria/Log in')).click();
			await p2.waitForSelector('::-p-xpath(//td[normalize-space()="A4:CF:12:00:10:01"])');
		} finally {
			await b2.close();
		}
	});

	await check('no script error, no CSP violation, no dialog', async () => {
		assert(pageErrors.length === 0, `errors: ${pageErrors.join(' | ')}`);
		assert(dialogsFired.length === 0, `dialogs: ${dialogsFired.join(' | ')}`);
	});

	await fleetChecks(base);
}

// ---- the fleet pages (protocol section 7) ----------------------------------

const TEMPLATE = '{"id": "{{external_id}}", "site": "{{vars.site}}"}';

async function fleetChecks(base) {
	fleet.on = true;
	console.log('# fleet pages (protocol section 7): these need the plugin\'s profiles, groups and unknown devices');
	let groupKey = '';
	// A check left a dialog open when it failed: the next starts without.
	const fcheck = (name, fn) => check(name, async () => {
		await page.evaluate(() => document.querySelectorAll('dialog[open]').forEach((d) => d.close()));
		await fn();
	});
	// Two devices knock without a config: unknown devices.
	for (const ext of ['SN-STRAY-0001', 'SN-STRAY-0001', 'SN-STRAY-0002'])
		await bootstrapRaw({ external_id: ext, external_key: 'not-the-key-0001', id: 'u1' }).catch(() => null);
	await page.goto(base, { waitUntil: 'domcontentloaded' });
	await logIn(ADMIN, ADMIN_PW);
	await page.waitForSelector('::-p-xpath(//h1[normalize-space()="Bootstraps"])');

	await fcheck('fleet: the Profiles page creates a profile with a template, channels and vars', async () => {
		await (await page.waitForSelector('nav a[data-page="profiles"]')).click();
		await page.waitForSelector('::-p-xpath(//h1[normalize-space()="Profiles"])');
		await orPageError('.empty, table.list');
		await (await control(page, 'Create')).click();
		const d = await dialog();
		await fill(d, 'ID', 'boilers');
		await fill(d, 'Name', 'Boilers');
		await fill(d, 'Content template', TEMPLATE);
		await (await control(d, 'Channels')).select('alarms');
		await (await control(d, 'Add variable')).click();
		await fill(d, 'Variable 1 name', 'site');
		await fill(d, 'Variable 1 value', 'plant-1');
		await shot('console-profile-create.png');
		await (await control(d, 'Save')).click();
		await orPageError('tr[data-profile-id="boilers"]');
		const t = await page.$eval('tr[data-profile-id="boilers"]', (r) => r.innerText);
		assert(t.includes('Boilers') && t.includes('Alarms') && t.includes('site=plant-1'), `row: ${t}`);
		const got = (await admin([{ command: 'getProfile', id: 'boilers' }]))[0];
		assert(got.data && got.data.content === TEMPLATE && got.data.vars.site === 'plant-1', `stored: ${JSON.stringify(got)}`);
		const total = await page.$eval('[data-total]', (e) => e.textContent);
		assert(total === '1\u20131 of 1 profile', `total: ${total}`);
		await shot('console-profiles.png');
	});

	await fcheck('fleet: a template with an unknown placeholder is refused, in words, by the field', async () => {
		await orPageError('tr[data-profile-id="boilers"]');
		await (await control(page, 'Create')).click();
		const d = await dialog();
		await fill(d, 'Name', 'Broken');
		await fill(d, 'Content template', 'serial={{serial}}');
		await (await control(d, 'Save')).click();
		const err = await page.waitForFunction(() => {
			const area = Array.from(document.querySelectorAll('dialog[open] textarea')).find((i) => i.getAttribute('aria-invalid') === 'true');
			const msg = area && document.getElementById(`${area.id}-err`);
			const label = area && document.querySelector(`label[for="${area.id}"]`);
			return msg && !msg.hidden ? `${label.textContent}|${msg.textContent}` : null;
		}, { timeout: T });
		const [label, text] = (await err.jsonValue()).split('|');
		assert(label === 'Content template' && /^Not accepted/.test(text), `${label}: ${text}`);
		await (await control(d, 'Close')).click();
	});

	await fcheck('fleet: a config made from a profile renders it; its details show profile and group', async () => {
		await (await page.waitForSelector('nav a[data-page="configs"]')).click();
		await page.waitForSelector('::-p-xpath(//h1[normalize-space()="Bootstraps"])');
		await (await control(page, 'Create')).click();
		const d = await dialog();
		await fill(d, 'External ID', 'SN-PROFILED-1');
		await profileOption(d, 'boilers');
		await (await control(d, 'Profile')).select('boilers');
		await (await control(d, 'Add variable')).click();
		await fill(d, 'Variable 1 name', 'site');
		await fill(d, 'Variable 1 value', 'plant-9');
		await (await control(d, 'Save')).click();
		await page.waitForSelector('[data-secrets]');
		await (await d.waitForSelector('::-p-xpath(.//button[normalize-space()="Done"])')).click();
		const cfg = (await admin([{ command: 'getConfig', external_id: 'SN-PROFILED-1' }]))[0].data;
		assert(cfg && cfg.profile === 'boilers' && cfg.vars.site === 'plant-9', `stored: ${JSON.stringify(cfg)}`);
		await go(`#/configs/${encodeURIComponent(cfg.client_id)}`);
		await page.waitForSelector('[data-field="profile"]');
		const [profile, group] = await page.evaluate(() => ['profile', 'group'].map((f) => document.querySelector(`[data-field="${f}"]`).textContent));
		assert(profile === 'boilers' && /none/.test(group), `profile ${profile}, group ${group}`);
		await waitText('"site": "plant-9"');
	});

	await fcheck('fleet: the Groups page creates a group; its key is shown once, with a copy button, and a device enrolls with it', async () => {
		await (await page.waitForSelector('nav a[data-page="groups"]')).click();
		await page.waitForSelector('::-p-xpath(//h1[normalize-space()="Enrollment groups"])');
		await orPageError('.empty, table.list');
		await (await control(page, 'Create')).click();
		const d = await dialog();
		await fill(d, 'ID', 'line-1');
		await fill(d, 'Name', 'Factory line 1');
		await profileOption(d, 'boilers');
		await (await control(d, 'Profile')).select('boilers');
		await (await control(d, 'Channels')).select('alarms');
		await (await control(d, 'Enable the configs it makes')).click();
		await (await control(d, 'Save')).click();
		const input = await orPageError('dialog[open] input.secret');
		groupKey = await input.evaluate((e) => e.value);
		assert(/^[A-Za-z0-9_-]{43}$/.test(groupKey), `group key: ${groupKey}`);
		await control(d, 'Copy group key');
		await shot('console-group-key.png');
		await (await d.waitForSelector('::-p-xpath(.//button[normalize-space()="Done"])')).click();
		await page.waitForFunction(() => !document.querySelector('dialog[open]'));
		await orPageError('tr[data-group-id="line-1"]');
		const t = await page.$eval('tr[data-group-id="line-1"]', (r) => r.innerText);
		assert(t.includes('boilers') && t.includes('Alarms') && /\benabled\b/.test(t), `row: ${t}`);
		const still = await page.evaluate((k) => document.documentElement.outerHTML.includes(k) ||
			Array.from(document.querySelectorAll('input')).some((i) => i.value === k), groupKey);
		assert(!still, 'the group key is still in the page');
		const reply = await bootstrapRaw({ external_id: 'SN-ENROLLED-1', external_key: derivedKey(groupKey, 'SN-ENROLLED-1'),
			group: 'line-1', id: 'e1' });
		assert(reply.client_id && reply.content === '{"id": "SN-ENROLLED-1", "site": "plant-1"}', `enrollment: ${JSON.stringify(reply)}`);
		await shot('console-groups.png');
	});

	await fcheck('fleet: Rotate key asks first, then shows the new key once', async () => {
		await orPageError('tr[data-group-id="line-1"]');
		await (await (await page.$('tr[data-group-id="line-1"]')).$('aria/Rotate key')).click();
		const c = await dialog();
		assert((await c.evaluate((e) => e.innerText)).includes('can no longer enroll'), 'the confirmation does not say what rotating does');
		await (await control(c, 'Confirm')).click();
		const input = await orPageError('dialog[open] input.secret');
		const fresh = await input.evaluate((e) => e.value);
		assert(/^[A-Za-z0-9_-]{43}$/.test(fresh) && fresh !== groupKey, `new key: ${fresh}`);
		await (await page.waitForSelector('::-p-xpath(//dialog[@open]//button[normalize-space()="Done"])')).click();
		await page.waitForFunction(() => !document.querySelector('dialog[open]'));
		const old = await bootstrapRaw({ external_id: 'SN-ENROLLED-2', external_key: derivedKey(groupKey, 'SN-ENROLLED-2'),
			group: 'line-1', id: 'e2' });
		assert(old.error === 'unauthorized', `the old key still enrolls: ${JSON.stringify(old)}`);
	});

	await fcheck('fleet: Unknown devices lists the strays, most recently seen first, with their attempts', async () => {
		await (await page.waitForSelector('nav a[data-page="unknown"]')).click();
		await page.waitForSelector('::-p-xpath(//h1[normalize-space()="Unknown devices"])');
		await orPageError('tr[data-external-id="SN-STRAY-0001"]');
		const ids = await page.$$eval('table.list tbody tr', (rows) => rows.map((r) => r.dataset.externalId));
		assert(ids.indexOf('SN-STRAY-0002') >= 0 && ids.indexOf('SN-STRAY-0002') < ids.indexOf('SN-STRAY-0001'), `order: ${ids}`);
		const attempts = await page.$eval('tr[data-external-id="SN-STRAY-0001"] [data-field="attempts"]', (e) => e.textContent);
		assert(attempts === '2', `attempts: ${attempts}`);
		const total = await page.$eval('[data-total]', (e) => Number(e.dataset.total));
		assert(total === ids.length, `total ${total} for ${ids.length} rows`);
		const shown = await page.evaluate(() => document.body.innerText.includes('not-the-key-0001'));
		assert(!shown, 'a key is shown');
		await shot('console-unknown.png');
	});

	await fcheck('fleet: Create config on an unknown row opens the dialog with its External ID, and the row goes', async () => {
		await orPageError('tr[data-external-id="SN-STRAY-0001"]');
		await (await (await page.$('tr[data-external-id="SN-STRAY-0001"]')).$('aria/Create config')).click();
		const d = await dialog();
		const ext = await (await control(d, 'External ID')).evaluate((e) => e.value);
		assert(ext === 'SN-STRAY-0001', `External ID: ${ext}`);
		await fill(d, 'Name', 'Found on the bench');
		await (await control(d, 'Save')).click();
		await page.waitForSelector('[data-secrets]');
		await (await d.waitForSelector('::-p-xpath(.//button[normalize-space()="Done"])')).click();
		await page.waitForFunction(() => !document.querySelector('tr[data-external-id="SN-STRAY-0001"]'), { timeout: T });
		const cfg = (await admin([{ command: 'getConfig', external_id: 'SN-STRAY-0001' }]))[0].data;
		assert(cfg && cfg.name === 'Found on the bench', `config: ${JSON.stringify(cfg)}`);
	});

	await fcheck('fleet: Clear and Clear all ask first', async () => {
		await orPageError('tr[data-external-id="SN-STRAY-0002"]');
		await (await (await page.$('tr[data-external-id="SN-STRAY-0002"]')).$('aria/Clear')).click();
		await (await control(await dialog(), 'Confirm')).click();
		await page.waitForFunction(() => !document.querySelector('tr[data-external-id="SN-STRAY-0002"]'), { timeout: T });
		await bootstrapRaw({ external_id: 'SN-STRAY-0003', external_key: 'not-the-key-0001', id: 'u3' }).catch(() => null);
		await (await control(page, 'Refresh')).click();
		await orPageError('tr[data-external-id="SN-STRAY-0003"]');
		await (await control(page, 'Clear all')).click();
		const c = await dialog();
		await (await control(c, 'Cancel')).click();
		await sleep(200);
		assert(await page.$('tr[data-external-id="SN-STRAY-0003"]'), 'Cancel cleared the list');
		await (await control(page, 'Clear all')).click();
		await (await control(await dialog(), 'Confirm')).click();
		await waitText('No unknown devices.');
		const left = (await admin([{ command: 'listUnknown' }]))[0];
		assert(left.data && left.data.total === 0, `listUnknown: ${JSON.stringify(left)}`);
	});

	await fcheck('fleet: a profile in use is not deleted, and the page says why', async () => {
		await (await page.waitForSelector('nav a[data-page="profiles"]')).click();
		await orPageError('tr[data-profile-id="boilers"]');
		await (await (await page.$('tr[data-profile-id="boilers"]')).$('aria/Delete')).click();
		await (await control(await dialog(), 'Confirm')).click();
		await waitText('In use:');
		assert(await page.$('tr[data-profile-id="boilers"]'), 'the row is gone');
	});

	await fcheck('fleet: no script error on the fleet pages', async () => {
		assert(pageErrors.length === 0, `errors: ${pageErrors.join(' | ')}`);
		assert(dialogsFired.length === 0, `dialogs: ${dialogsFired.join(' | ')}`);
	});
	fleet.on = false;
}

const ok = await main().then(() => true, (e) => {
	failed += 1;
	console.log(`FAIL - setup: ${e && e.stack ? e.stack : e}`);
	return false;
});
if (browser)
	await browser.close();
await stopBroker();
if (failed === 0 && ok)
	rmSync(dir, { recursive: true, force: true });
else
	console.log(`broker directory kept: ${dir}\n${readLog()}`);
console.log(`screenshots in ${shotsDir}; ${((Date.now() - started) / 1000).toFixed(1)} s`);
finish(failed === 0 ? 0 : 1);
