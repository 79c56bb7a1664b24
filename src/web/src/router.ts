// Page routes on the History API. Every page the server falls back to index.html for
// (src/transport/rest/web.ts) is listed in `main.ts`.
import { h } from './dom.ts';

export type Page = () => Promise<Node> | Node;

let routes: Record<string, Page> = {};
let flash: string | null = null;
let generation = 0;

/** Goes to a page; `message` is shown once at the top of it. */
export function navigate(path: string, message?: string, replace = false): void {
  flash = message ?? null;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  void render();
}

/** The message handed over by `navigate`, as a live region (or nothing). */
export function flashMessage(): HTMLElement | null {
  const text = flash;
  flash = null;
  return text ? h('p', { role: 'status', class: 'msg info', tabindex: -1, 'data-flash': '' }, text) : null;
}

export async function render(): Promise<void> {
  const mine = ++generation;
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const main = document.getElementById('main')!;
  const page = routes[path];
  let content: Node;
  try {
    content = page ? await page() : notFound(path);
  } catch {
    content = h('section', { class: 'card' }, h('h1', { tabindex: -1 }, 'Something went wrong'), h('p', {}, 'Reload the page to try again.'));
  }
  // A slower page that finished after the person moved on must not replace the newer one.
  if (mine !== generation) return;
  main.replaceChildren(content);
  const heading = main.querySelector('h1');
  document.title = heading ? `${heading.textContent} · Twofold` : 'Twofold';
  const first = main.querySelector<HTMLElement>('[data-autofocus]') ?? heading;
  first?.focus();
  window.dispatchEvent(new CustomEvent('twofold:rendered'));
}

/** The app's own page for a path it does not have (the server answers such paths with the app and 404). */
function notFound(path: string): Node {
  return h('section', { class: 'card', 'aria-labelledby': 'not-found-title', 'data-testid': 'not-found' },
    h('h1', { id: 'not-found-title', tabindex: -1 }, 'Page not found'),
    h('p', {}, 'There is no page at ', h('code', {}, path.length > 80 ? `${path.slice(0, 80)}…` : path), '. The link may be old or mistyped.'),
    h('ul', { class: 'links' },
      h('li', {}, h('a', { href: '/security', 'data-link': '' }, 'Your security settings')),
      h('li', {}, h('a', { href: '/login', 'data-link': '' }, 'Sign in'))));
}

export function startRouter(table: Record<string, Page>): void {
  routes = table;
  document.addEventListener('click', (ev) => {
    const a = (ev.target as Element | null)?.closest?.('a[data-link]');
    if (!(a instanceof HTMLAnchorElement) || ev.defaultPrevented || ev.button !== 0) return;
    if (ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey || a.origin !== location.origin) return;
    ev.preventDefault();
    navigate(a.pathname);
  });
  window.addEventListener('popstate', () => void render());
  void render();
}
