// The admin's one connection: MQTT v5 over the WebSocket of the listener
// that served these files (protocol sections 4 and 8).
//
// Every batch goes out at QoS 1 with a Response Topic of this page's own,
// $CONTROL/bootstrap/v1/response/console-<random>, and Correlation Data
// numbering the batch; the plugin answers with a directed publish on that
// topic, so no subscription is needed and no other admin sees the answer
// (secrets shown once included). The password lives in this object alone,
// for the client library to log in again after a lost connection: it is
// never written to storage, a cookie or the URL.
import mqtt from 'mqtt';

export const ADMIN_TOPIC = '$CONTROL/bootstrap/v1';
export const EVENTS_TOPIC = '$CONTROL/bootstrap/v1/events';
export const STATS_FILTER = '$SYS/broker/bootstrap/#';
const STATS_PREFIX = '$SYS/broker/bootstrap/';
const ANSWER_MS = 10000;
const CONNECT_MS = 10000;
const RECONNECT_MS = 3000;

// A command the plugin answered with an error (section 4's codes).
export class ApiError extends Error {
	constructor(code, message, command) {
		super(message || code);
		this.code = code;
		this.command = command;
	}
}

// The broker could not be asked: not connected, refused, no answer.
export class LinkError extends Error {}

const decoder = new TextDecoder();

function randomHex(bytes) {
	const a = new Uint8Array(bytes);
	crypto.getRandomValues(a);
	return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ws://host:port/ or wss://, back to the listener that served the page.
export function brokerUrl(loc) {
	const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
	return `${scheme}//${loc.host}/`;
}

// CONNACK reason codes (MQTT 5, and 3.1.1's returned as 4 and 5) in words.
function refusal(code) {
	switch (code) {
	case 4: case 5: case 134: case 135:
		return 'Wrong username or password.';
	case 138:
		return 'This user is banned by the broker.';
	case 136: case 137:
		return 'The broker is unavailable or busy; try again shortly.';
	default:
		return `The broker refused the login (reason code ${code}).`;
	}
}

export class Admin extends EventTarget {
	constructor(url) {
		super();
		this.url = url;
		this.username = '';
		this.client = null;
		this.connected = false;
		this.pending = new Map();
		this.tag = 0;
		this.responseTopic = `${ADMIN_TOPIC}/response/console-${randomHex(8)}`;
	}

	// Resolves once logged in and the plugin has answered as to an admin;
	// rejects with a LinkError saying why not.
	connect(username, password) {
		this.username = username;
		return new Promise((resolve, reject) => {
			let settled = false;
			const fail = (text) => {
				if (settled)
					return;
				settled = true;
				this.close();
				reject(new LinkError(text));
			};
			const client = mqtt.connect(this.url, {
				protocolVersion: 5,
				clientId: `bootstrap-console-${randomHex(6)}`,
				username,
				password,
				clean: true,
				reconnectPeriod: 0,
				connectTimeout: CONNECT_MS,
				keepalive: 30,
				resubscribe: true,
				// The default runs its timers in a Worker made from a blob:
				// URL, which the Content-Security-Policy rightly refuses.
				timerVariant: 'native',
			});
			this.client = client;
			const timer = setTimeout(() => fail(
				`No answer from the broker at ${this.url} within ${CONNECT_MS / 1000} s.`), CONNECT_MS);
			client.on('error', (err) => {
				if (!settled) {
					clearTimeout(timer);
					fail(typeof err.code === 'number' ? refusal(err.code)
						: `Cannot reach the broker at ${this.url}: ${err.message || 'connection failed'}.`);
				}
			});
			client.on('close', () => {
				if (!settled) {
					clearTimeout(timer);
					fail(`Cannot reach the broker at ${this.url}: is its websockets listener running?`);
					return;
				}
				if (this.connected) {
					this.connected = false;
					this.failPending('The connection to the broker was lost.');
					this.emit('link', { up: false });
				}
			});
			client.on('connect', () => {
				if (!settled) {
					this.connected = true;
					this.ask([{ command: 'getStats' }]).then((responses) => {
						clearTimeout(timer);
						settled = true;
						// From now on the library logs in again by itself.
						client.options.reconnectPeriod = RECONNECT_MS;
						this.subscribeAll();
						this.emit('stats', { figures: responses[0] && responses[0].data });
						resolve();
					}, (err) => {
						clearTimeout(timer);
						fail(err instanceof LinkError && /not authori[sz]ed/i.test(err.message)
							? `The user "${username}" is not an admin of the bootstrap plugin (plugin_opt_admin_users).`
							: err.message);
					});
					return;
				}
				this.connected = true;
				this.emit('link', { up: true });
			});
			client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
		});
	}

	subscribeAll() {
		this.client.subscribe(EVENTS_TOPIC, { qos: 0 }, (err, granted) => {
			this.emit('events-access', { ok: !err && granted && granted[0] && granted[0].qos < 128 });
		});
		this.client.subscribe(STATS_FILTER, { qos: 0 }, (err, granted) => {
			this.emit('stats-access', { ok: !err && granted && granted[0] && granted[0].qos < 128 });
		});
	}

	close() {
		this.failPending('Logged out.');
		if (this.client) {
			this.client.removeAllListeners();
			this.client.on('error', () => {});
			this.client.end(true);
		}
		this.client = null;
		this.connected = false;
	}

	emit(type, detail) {
		this.dispatchEvent(new CustomEvent(type, { detail }));
	}

	failPending(text) {
		for (const [, p] of this.pending) {
			clearTimeout(p.timer);
			p.reject(new LinkError(text));
		}
		this.pending.clear();
	}

	onMessage(topic, payload, packet) {
		if (topic === this.responseTopic) {
			const corr = packet.properties && packet.properties.correlationData;
			const tag = corr ? decoder.decode(corr) : '';
			const p = this.pending.get(tag);
			if (!p)
				return;
			this.pending.delete(tag);
			clearTimeout(p.timer);
			let reply = null;
			try {
				reply = JSON.parse(decoder.decode(payload));
			} catch (e) {
				reply = null;
			}
			if (!reply || !Array.isArray(reply.responses))
				p.reject(new LinkError('The plugin answered something that is not a list of responses.'));
			else
				p.resolve(reply.responses);
			return;
		}
		if (topic === EVENTS_TOPIC) {
			try {
				this.emit('event', JSON.parse(decoder.decode(payload)));
			} catch (e) {
				// Not JSON: not an event of section 8.
			}
			return;
		}
		if (topic.startsWith(STATS_PREFIX)) {
			const key = topic.slice(STATS_PREFIX.length).replaceAll('/', '_');
			const value = Number(decoder.decode(payload));
			if (key && Number.isFinite(value))
				this.emit('stats', { figures: { [key]: value } });
		}
	}

	// One batch: resolves with its responses, one per command, in order.
	ask(commands) {
		if (!this.client || !this.connected)
			return Promise.reject(new LinkError('Not connected to the broker.'));
		const tag = String(++this.tag);
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.pending.delete(tag);
				reject(new LinkError(`No answer from the bootstrap plugin within ${ANSWER_MS / 1000} s.`));
			}, ANSWER_MS);
			this.pending.set(tag, { resolve, reject, timer });
			const body = JSON.stringify({ commands });
			this.client.publish(ADMIN_TOPIC, body, {
				qos: 1,
				properties: { responseTopic: this.responseTopic, correlationData: tag },
			}, (err) => {
				if (err && this.pending.has(tag)) {
					this.pending.delete(tag);
					clearTimeout(timer);
					reject(new LinkError(`The broker refused the command: ${err.message}`));
				}
			});
		});
	}

	// One command: resolves with its data, rejects with an ApiError.
	async call(command, fields = {}) {
		const responses = await this.ask([{ command, ...fields }]);
		const r = responses[0];
		if (!r)
			throw new LinkError('The plugin gave no response to the command.');
		if (r.error)
			throw new ApiError(r.error, r.message, r.command);
		return r.data;
	}
}
