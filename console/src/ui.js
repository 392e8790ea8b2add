// Dialogs, fields, messages: the pieces every page is made of.
import { h, replace, uid } from './dom.js';

// A modal <dialog>: the rest of the page is inert while it is open, Escape
// closes it. Returns {el, body, close}; onClose runs once, however it ends.
export function openDialog({ title, wide = false, onClose }) {
	const titleId = uid('dlg-title');
	const body = h('div', { class: 'dialog-body' });
	const closeBtn = h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Close' }, '\u00d7');
	const el = h('dialog', { class: wide ? 'dialog wide' : 'dialog', 'aria-labelledby': titleId },
		h('header', { class: 'dialog-head' }, h('h2', { id: titleId }, title), closeBtn),
		body);
	let closed = false;
	const close = () => {
		if (closed)
			return;
		closed = true;
		if (el.open)
			el.close();
		el.remove();
		if (onClose)
			onClose();
	};
	closeBtn.addEventListener('click', close);
	el.addEventListener('close', close);
	el.addEventListener('cancel', (e) => {
		e.preventDefault();
		close();
	});
	document.body.appendChild(el);
	el.showModal();
	return { el, body, close, titleEl: el.querySelector('h2') };
}

// Resolves true when the admin presses Confirm, false otherwise.
export function confirmDialog({ title, text, confirmLabel = 'Confirm', danger = true }) {
	return new Promise((resolve) => {
		let answer = false;
		const d = openDialog({ title, onClose: () => resolve(answer) });
		const ok = h('button', {
			type: 'button', class: danger ? 'btn danger' : 'btn primary',
			onclick: () => {
				answer = true;
				d.close();
			},
		}, confirmLabel);
		const cancel = h('button', { type: 'button', class: 'btn', onclick: () => d.close() }, 'Cancel');
		replace(d.body, h('p', null, text), h('div', { class: 'dialog-actions' }, cancel, ok));
		cancel.focus();
	});
}

// A labelled control with room for a hint and an error under it. The
// error is tied to the control with aria-describedby and aria-invalid.
export function field({ label, control, hint, extra, className }) {
	const id = control.id || uid('f');
	control.id = id;
	const errId = `${id}-err`;
	const hintId = `${id}-hint`;
	const err = h('p', { class: 'field-error', id: errId, role: 'alert', hidden: true });
	const described = [hint ? hintId : null, errId].filter(Boolean).join(' ');
	control.setAttribute('aria-describedby', described);
	const wrap = h('div', { class: className ? `field ${className}` : 'field' },
		h('div', { class: 'field-label' }, h('label', { for: id }, label), extra || null),
		control,
		hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
		err);
	return {
		el: wrap,
		control,
		setError(text) {
			if (text) {
				err.textContent = text;
				err.hidden = false;
				control.setAttribute('aria-invalid', 'true');
			} else {
				err.textContent = '';
				err.hidden = true;
				control.removeAttribute('aria-invalid');
			}
		},
	};
}

// A message strip (errors in words, notices) that can be set and cleared.
export function banner(kind = 'error') {
	const el = h('div', { class: `banner ${kind}`, role: kind === 'error' ? 'alert' : 'status', hidden: true });
	return {
		el,
		set(text, k = kind) {
			el.className = `banner ${k}`;
			el.textContent = text || '';
			el.hidden = !text;
		},
	};
}

const toasts = () => document.getElementById('toasts');
export function toast(text, kind = 'ok') {
	const t = h('div', { class: `toast ${kind}`, role: 'status' }, text);
	toasts().appendChild(t);
	setTimeout(() => t.remove(), 4000);
}

// Copies text: the Clipboard API where the page is a secure context
// (https, or 127.0.0.1 and localhost), else a selection and execCommand.
export async function copyText(text, fallbackInput) {
	try {
		if (navigator.clipboard && window.isSecureContext) {
			await navigator.clipboard.writeText(text);
			return true;
		}
	} catch (e) {
		// Fall through to the selection.
	}
	if (fallbackInput) {
		fallbackInput.focus();
		fallbackInput.select();
		try {
			return document.execCommand('copy');
		} catch (e) {
			return false;
		}
	}
	return false;
}

// A state as text and colour: "enabled" green, "disabled" grey.
export function stateBadge(state) {
	return h('span', { class: `state state-${state === 'enabled' ? 'enabled' : 'disabled'}` }, state);
}

export function busy(button, on) {
	button.disabled = on;
	button.classList.toggle('busy', on);
}
