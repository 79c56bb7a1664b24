// A few lines instead of a framework: elements are built with `h`, text is always set as
// text (never as HTML), so nothing from the server can inject markup.

type Child = Node | string | null | undefined | false;
type AttrValue = string | number | boolean | null | undefined | ((ev: Event) => void);

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, AttrValue> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

let counter = 0;
export const uid = (prefix: string) => `${prefix}-${++counter}`;

/** A labelled input; the hint is tied to the input with aria-describedby. */
export function field(label: string, input: HTMLInputElement, hint?: string): HTMLElement {
  input.id ||= uid('f');
  const hintEl = hint ? h('p', { class: 'hint', id: `${input.id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hintEl);
}

/** A live region: `alert` for errors (read at once), `status` for news. */
export function messageArea(kind: 'alert' | 'status'): HTMLParagraphElement & { show(text: string | null): void } {
  const el = h('p', { role: kind, class: kind === 'alert' ? 'msg error' : 'msg info', id: uid(kind) }) as HTMLParagraphElement & { show(text: string | null): void };
  el.show = (text) => {
    el.textContent = text ?? '';
    el.hidden = !text;
  };
  el.hidden = true;
  return el;
}

/** Runs `work` with the form's buttons disabled, so a double click cannot send twice. */
export async function busy<T>(form: HTMLElement, work: () => Promise<T>): Promise<T> {
  const buttons = [...form.querySelectorAll('button')].filter((b) => !b.disabled);
  form.setAttribute('aria-busy', 'true');
  for (const b of buttons) b.disabled = true;
  try {
    return await work();
  } finally {
    form.removeAttribute('aria-busy');
    for (const b of buttons) b.disabled = false;
  }
}

/** Moves focus once the element is in the document (a fresh page or prompt). */
export function focusSoon(el: HTMLElement | null | undefined): void {
  if (!el) return;
  requestAnimationFrame(() => el.focus());
}

/**
 * Marks a field as refused and ties the refusal's words to it (aria-invalid, aria-describedby),
 * so a screen reader on the field hears why; `null` clears both and keeps the field's own hint.
 */
export function markInvalid(input: HTMLInputElement, error: HTMLElement | null): void {
  const hint = `${input.id}-hint`;
  const own = input.ownerDocument.getElementById(hint) ? [hint] : [];
  if (error) {
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', [error.id, ...own].join(' '));
  } else {
    input.removeAttribute('aria-invalid');
    if (own.length) input.setAttribute('aria-describedby', own.join(' '));
    else input.removeAttribute('aria-describedby');
  }
}

/**
 * Calls `tick` with the whole seconds left now and once a second, then `done` when the wait
 * is over or the element it belongs to has left the page. Returns a stop function.
 */
export function everySecondUntil(owner: Element, seconds: number, tick: (left: number) => void, done: () => void): () => void {
  const until = Date.now() + seconds * 1000;
  const step = () => {
    const left = (until - Date.now()) / 1000;
    if (!owner.isConnected || left <= 0) {
      clearInterval(timer);
      if (owner.isConnected) done();
      return;
    }
    tick(left);
  };
  const timer = setInterval(step, 1000);
  tick(seconds);
  return () => clearInterval(timer);
}
