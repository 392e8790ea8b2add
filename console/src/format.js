// Words for what the admin API answers.
import { ApiError } from './api.js';

const CODE_WORDS = {
	invalid_request: 'Not accepted',
	not_found: 'Not found',
	conflict: 'Already exists',
	forbidden: 'Not allowed',
	internal_error: 'The broker\'s store failed',
};

// "Already exists: a config with this external_id already exists."
export function errorText(err) {
	if (err instanceof ApiError) {
		const words = CODE_WORDS[err.code] || `Error ${err.code}`;
		const msg = err.message && err.message !== err.code ? err.message : '';
		return msg ? `${words}: ${msg}.` : `${words}.`;
	}
	return err && err.message ? err.message : String(err);
}

// The field an error message names ("external_key: must be 8 to 256
// bytes", "a config with this external_id already exists"), or null.
const FIELDS = ['external_id', 'external_key', 'client_id', 'client_secret', 'client_cert',
	'client_key', 'ca_cert', 'content', 'channels', 'metadata', 'profile', 'vars', 'enable',
	'name', 'id'];
export function errorField(err) {
	if (!(err instanceof ApiError) || !err.message)
		return null;
	let best = null;
	let at = Infinity;
	for (const f of FIELDS) {
		const m = new RegExp(`(^|[^a-z_])${f}($|[^a-z_])`).exec(err.message);
		if (m && m.index < at) {
			at = m.index;
			best = f;
		}
	}
	if (best === null && /\bchannel\b/.test(err.message))
		best = 'channels';
	if (best === null && /private key/.test(err.message))
		best = 'client_key';
	// A template's placeholders (protocol 7.1) are in its content.
	if (best === null && /placeholder|template|\{\{/.test(err.message))
		best = 'content';
	if (best === null && /\bvars?\b|\bvariable/.test(err.message))
		best = 'vars';
	return best;
}

// "2026-12-02 15:20:11 UTC" from RFC 3339; "never" for null.
export function when(ts, never = 'never') {
	if (!ts)
		return never;
	const d = new Date(ts);
	if (Number.isNaN(d.getTime()))
		return String(ts);
	return d.toISOString().replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
}

export function ago(ts) {
	if (!ts)
		return '';
	const s = Math.round((Date.now() - new Date(ts).getTime()) / 1000);
	if (!Number.isFinite(s))
		return '';
	if (s < 60)
		return s <= 1 ? 'just now' : `${s} s ago`;
	if (s < 3600)
		return `${Math.floor(s / 60)} min ago`;
	if (s < 86400)
		return `${Math.floor(s / 3600)} h ago`;
	return `${Math.floor(s / 86400)} days ago`;
}

export function plural(n, one, many) {
	return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}
