// The create and edit dialog of a bootstrap configuration, with every
// field of the Bootstraps page it is modelled on, its profile and vars
// (protocol 7.1), and the once-only view of the secrets a creation
// generated.
import { ApiError } from '../api.js';
import { h, replace } from '../dom.js';
import { errorField, errorText } from '../format.js';
import { banner, busy, copyText, field, openDialog, toast } from '../ui.js';
import { listAll, profileField, sameVars, varsField } from './fleet-parts.js';

const CHANNEL_PAGE = 1000;

// 256 random bits as URL-safe base64 without padding, as the plugin makes.
export function randomKey() {
	const a = new Uint8Array(32);
	crypto.getRandomValues(a);
	let s = '';
	for (const b of a)
		s += String.fromCharCode(b);
	return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function allChannels(api) {
	const out = [];
	for (let offset = 0; ; offset += CHANNEL_PAGE) {
		const page = await api.call('listChannels', { offset, limit: CHANNEL_PAGE });
		out.push(...page.channels);
		if (out.length >= page.total || page.channels.length === 0)
			return out;
	}
}

// A PEM file as its text; anything else (DER) as base64, which the plugin
// takes too.
async function readPem(file) {
	const buf = new Uint8Array(await file.arrayBuffer());
	const text = new TextDecoder('utf-8', { fatal: false }).decode(buf);
	if (text.includes('-----BEGIN'))
		return text;
	let s = '';
	for (const b of buf)
		s += String.fromCharCode(b);
	return btoa(s);
}

function pemField({ label, fileLabel, value, hint, placeholder }) {
	const area = h('textarea', { class: 'mono', rows: 4, spellcheck: 'false', placeholder, value: value || '' });
	const status = h('span', { class: 'file-status', 'aria-live': 'polite' });
	const file = h('input', { type: 'file', class: 'file-input', 'aria-label': fileLabel,
		accept: '.pem,.crt,.cer,.der,.key,.txt,application/x-pem-file' });
	const f = field({ label, control: area, hint,
		extra: h('span', { class: 'file-pick' }, h('label', { class: 'btn small' }, 'Read from a file', file), status) });
	file.addEventListener('change', async () => {
		const picked = file.files && file.files[0];
		if (!picked)
			return;
		try {
			area.value = await readPem(picked);
			status.textContent = picked.name;
			f.setError('');
		} catch (e) {
			f.setError(`Cannot read ${picked.name}: ${e.message}`);
		}
		file.value = '';
	});
	return f;
}

// The secrets of a reply, shown this once, with a button to copy each.
function secretsView(d, data, done) {
	const rows = [];
	const add = (label, value) => {
		if (!value)
			return;
		const input = h('input', { class: 'mono secret', readOnly: true, value, 'aria-label': label,
			spellcheck: 'false', autocomplete: 'off' });
		const btn = h('button', { type: 'button', class: 'btn small', 'aria-label': `Copy ${label.toLowerCase()}` }, 'Copy');
		btn.addEventListener('click', async () => {
			const ok = await copyText(value, input);
			btn.textContent = ok ? 'Copied' : 'Select and copy';
			setTimeout(() => { btn.textContent = 'Copy'; }, 2000);
		});
		rows.push(h('div', { class: 'secret-row' }, h('div', { class: 'field-label' }, label), h('div', { class: 'secret-line' }, input, btn)));
	};
	add('Device external key', data.external_key);
	add('Device client secret', data.client_secret);
	const doneBtn = h('button', { type: 'button', class: 'btn primary', onclick: () => d.close() }, 'Done');
	d.titleEl.textContent = done.title;
	replace(d.body,
		h('p', null, done.text),
		h('div', { class: 'banner warn', role: 'status' },
			'Copy these now: they are shown this once and never again. Whoever holds the external key can bootstrap this device.'),
		h('div', { class: 'secrets', 'data-secrets': '' }, rows),
		h('div', { class: 'dialog-actions' }, doneBtn));
	doneBtn.focus();
}

// Opens the dialog: a new config when cfg is null, else an edit of cfg.
// onDone(data) runs after a successful save. prefill: fields of a new
// config filled in already ({external_id} from an unknown device's row).
export async function configDialog(api, cfg, onDone, prefill = {}) {
	const editing = cfg !== null;
	const d = openDialog({ title: editing ? 'Edit bootstrap configuration' : 'Create bootstrap configuration', wide: true });
	const top = banner('error');
	replace(d.body, h('p', { class: 'muted' }, 'Loading channels\u2026'));
	let channels = [];
	try {
		channels = await allChannels(api);
	} catch (e) {
		replace(d.body, top.el);
		top.set(`Cannot list the channels: ${errorText(e)}`);
		return;
	}
	// The profiles to pick from; a plugin that cannot list them leaves the
	// picker at None, saying why.
	let profiles = [];
	let profilesError = '';
	try {
		profiles = await listAll(api, 'listProfiles', 'profiles');
	} catch (e) {
		profilesError = errorText(e);
	}

	const fields = {};
	fields.name = field({ label: 'Name', control: h('input', { type: 'text', autocomplete: 'off', value: editing ? cfg.name : '' }),
		hint: 'A human-readable name, at most 256 bytes.' });
	fields.external_id = field({ label: 'External ID',
		control: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', required: !editing,
			readOnly: editing, value: editing ? cfg.external_id : prefill.external_id || '', placeholder: 'a MAC address or serial number' }),
		hint: editing ? 'The device\'s identity: it cannot be changed.' : 'Unique: the device sends it when it bootstraps. No "/", "+" or "#".' });
	const keyInput = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono',
		placeholder: editing ? 'unchanged' : 'generated when left empty' });
	const genBtn = h('button', { type: 'button', class: 'btn small', onclick: () => {
		keyInput.value = randomKey();
		fields.external_key.setError('');
	} }, 'Generate');
	fields.external_key = field({ label: 'External key', control: keyInput, extra: genBtn,
		hint: editing ? 'Leave empty to keep the current key; a new one is shown once, after saving.'
			: '8 to 256 characters, kept on the device. Shown once after creation, never again.' });
	const chosen = new Set(editing ? cfg.channels.map((c) => c.id) : []);
	const select = h('select', { multiple: true, size: Math.min(Math.max(channels.length, 2), 6) },
		channels.map((c) => h('option', { value: c.id, selected: chosen.has(c.id) }, c.name ? `${c.name} (${c.id})` : c.id)));
	fields.channels = field({ label: 'Channels', control: select,
		hint: channels.length === 0 ? 'No channels exist yet: create them on the Channels page first.'
			: 'The channels the device will use. Ctrl-click (\u2318-click) to pick several.' });
	fields.client_id = field({ label: 'Client ID',
		control: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono', readOnly: editing,
			value: editing ? cfg.client_id : '', placeholder: 'generated when left empty' }),
		hint: editing ? 'The device\'s MQTT username on this broker: it cannot be changed.'
			: 'Optional: the device\'s MQTT username on this broker. A UUID is generated when left empty.' });
	const contentHint = 'Free-form configuration handed to the device, at most 64 KiB.';
	const profiledHint = 'Rendered from the profile\'s template for this device (shown as it renders now): it cannot be edited here.';
	fields.content = field({ label: 'Content',
		control: h('textarea', { class: 'mono', rows: 4, spellcheck: 'false', value: editing ? cfg.content : '',
			placeholder: '{"interval": 30}' }),
		hint: contentHint });
	fields.profile = profileField(profiles, editing ? cfg.profile || '' : '',
		profilesError ? `The profiles cannot be listed: ${profilesError}`
			: 'Optional: the content is then rendered from the profile\'s template, with its channels and vars as defaults.');
	fields.vars = varsField(editing ? cfg.vars : {}, 'The values of {{vars.KEY}} for this device, over the profile\'s.');
	const contentArea = fields.content.control;
	const hintEl = contentArea.parentNode.querySelector('.hint');
	const typed = { text: contentArea.value };
	const onProfile = () => {
		const profiled = fields.profile.control.value !== '';
		if (profiled && !contentArea.readOnly)
			typed.text = contentArea.value;
		contentArea.readOnly = profiled;
		// A new config with a profile sends no content; an edit shows what
		// the profile renders.
		if (!editing)
			contentArea.value = profiled ? '' : typed.text;
		contentArea.placeholder = profiled ? 'rendered from the profile' : '{"interval": 30}';
		hintEl.textContent = profiled ? profiledHint : contentHint;
	};
	fields.profile.control.addEventListener('change', onProfile);
	onProfile();
	fields.client_cert = pemField({ label: 'Client certificate', fileLabel: 'Certificate file',
		value: editing ? cfg.client_cert : '', placeholder: '-----BEGIN CERTIFICATE-----',
		hint: 'PEM, or base64 DER. Empty: none.' });
	const removeKey = editing && cfg.has_client_key
		? h('input', { type: 'checkbox', id: 'remove-client-key' }) : null;
	fields.client_key = pemField({ label: 'Client key', fileLabel: 'Key file',
		placeholder: editing && cfg.has_client_key ? 'a key is stored: leave empty to keep it' : '-----BEGIN PRIVATE KEY-----',
		hint: editing && cfg.has_client_key ? 'Write-only: the stored key is never shown.' : 'Must match the client certificate. Never shown after saving.' });
	fields.ca_cert = pemField({ label: 'CA certificate', fileLabel: 'CA file', value: editing ? cfg.ca_cert : '',
		placeholder: '-----BEGIN CERTIFICATE-----', hint: 'One or more PEM certificates, or base64 DER.' });

	const hasCerts = editing && (cfg.client_cert || cfg.ca_cert || cfg.has_client_key);
	const enc = h('details', { class: 'encryption', open: hasCerts },
		h('summary', null, 'Encryption settings'),
		h('div', { class: 'enc-body' }, fields.client_cert.el, fields.client_key.el,
			removeKey ? h('label', { class: 'check' }, removeKey, 'Remove the stored client key') : null,
			fields.ca_cert.el));

	const save = h('button', { type: 'submit', class: 'btn primary' }, 'Save');
	const cancel = h('button', { type: 'button', class: 'btn', onclick: () => d.close() }, 'Cancel');
	const form = h('form', { class: 'form', novalidate: true },
		top.el,
		h('div', { class: 'grid-2' }, fields.name.el, fields.external_id.el),
		h('div', { class: 'grid-2' }, fields.external_key.el, fields.client_id.el),
		fields.channels.el,
		fields.profile.el,
		fields.content.el,
		fields.vars.el,
		enc,
		h('div', { class: 'dialog-actions' }, cancel, save));
	replace(d.body, form);
	(editing ? fields.name.control : fields.external_id.control).focus();

	const value = (k) => fields[k].control.value;
	const pickedChannels = () => Array.from(select.selectedOptions, (o) => o.value);

	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		top.set('');
		for (const f of Object.values(fields))
			f.setError('');
		let command;
		const body = {};
		const vars = fields.vars.value();
		if (typeof vars === 'string') {
			fields.vars.setError(vars);
			return;
		}
		const profile = fields.profile.control.value;
		if (!editing) {
			command = 'createConfig';
			if (!value('external_id').trim()) {
				fields.external_id.setError('Required: the ID the device bootstraps with.');
				fields.external_id.control.focus();
				return;
			}
			body.external_id = value('external_id');
			for (const k of ['name', 'external_key', 'client_id', 'content', 'client_cert', 'client_key', 'ca_cert']) {
				if (value(k) !== '')
					body[k] = value(k);
			}
			const ch = pickedChannels();
			if (ch.length > 0)
				body.channels = ch;
			if (profile !== '') {
				body.profile = profile;
				delete body.content;
			}
			if (Object.keys(vars).length > 0)
				body.vars = vars;
		} else {
			command = 'modifyConfig';
			body.client_id = cfg.client_id;
			if (value('name') !== cfg.name)
				body.name = value('name');
			if (value('content') !== cfg.content && !contentArea.readOnly)
				body.content = value('content');
			if (profile !== (cfg.profile || ''))
				body.profile = profile === '' ? null : profile;
			if (!sameVars(vars, cfg.vars))
				body.vars = vars;
			if (value('external_key') !== '')
				body.external_key = value('external_key');
			for (const k of ['client_cert', 'ca_cert']) {
				if (value(k) !== (cfg[k] || ''))
					body[k] = value(k) === '' ? null : value(k);
			}
			if (value('client_key') !== '')
				body.client_key = value('client_key');
			else if (removeKey && removeKey.checked)
				body.client_key = null;
			const ch = pickedChannels();
			const before = cfg.channels.map((c) => c.id);
			if (ch.length !== before.length || ch.some((id) => !before.includes(id)))
				body.channels = ch;
			if (Object.keys(body).length === 1) {
				top.set('Nothing was changed.', 'info');
				return;
			}
		}
		busy(save, true);
		try {
			const data = await api.call(command, body);
			if (!editing) {
				secretsView(d, data, {
					title: 'Configuration created',
					text: `The configuration of ${data.external_id} is created, disabled: enable it when the device may bootstrap.`,
				});
			} else if (data.external_key) {
				secretsView(d, data, { title: 'Configuration saved', text: 'The new external key of the device:' });
			} else {
				d.close();
				toast('Configuration saved.');
			}
			onDone(data);
		} catch (e) {
			busy(save, false);
			const text = errorText(e);
			const k = e instanceof ApiError ? errorField(e) : null;
			if (k && fields[k]) {
				fields[k].setError(text);
				if (['client_cert', 'client_key', 'ca_cert'].includes(k))
					enc.open = true;
				fields[k].control.focus();
				top.set('The broker did not accept the configuration: see the field marked below.');
			} else {
				top.set(text);
			}
		}
	});
}
