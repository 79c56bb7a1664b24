// Where the user is signed in, their personal access tokens and their recent security
// activity (issue 14 §5). Signing sessions out asks for no second factor: it only takes
// access away. Creating or revoking a token asks for one, through the step-up dialog.
import { api, ApiError, getSession, setSession } from '../api.ts';
import { busy, field, focusSoon, h, messageArea } from '../dom.ts';
import { describeError } from '../messages.ts';
import { flashMessage, navigate } from '../router.ts';
import { withSecondFactor } from '../step-up.ts';
import type { Me } from './security.ts';

interface SessionInfo {
  id: string;
  createdAt: string;
  lastUsedAt: string | null;
  clientAddress: string | null;
  userAgent: string | null;
  current: boolean;
}

interface DeviceInfo {
  id: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string;
  clientAddress: string | null;
  userAgent: string | null;
}

interface PersonalToken {
  name: string;
  createdAt: string;
  lastTokenPart: string;
  bypassTwoFactor: boolean;
}

interface SecurityEvent {
  _id: string;
  ts: string;
  event: string;
  method: string | null;
  transport: string;
  clientAddress: string;
  details: Record<string, unknown>;
}

const when = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A short name for a User-Agent string; the whole string stays available as a tooltip. */
function describeAgent(agent: string | null): string {
  if (!agent) return 'Unknown client';
  const browser = /(Edg|OPR|Firefox|Chrome|Chromium|Safari)\/[\d.]+/.exec(agent)?.[1]?.replace('Edg', 'Edge').replace('OPR', 'Opera');
  const system = /(Windows|Android|iPhone|iPad|Mac OS X|Linux|CrOS)/.exec(agent)?.[1]?.replace('Mac OS X', 'macOS').replace('CrOS', 'ChromeOS');
  if (browser) return system ? `${browser} on ${system}` : browser;
  return agent.length > 60 ? `${agent.slice(0, 57)}…` : agent;
}

// How each method reads in a sentence about the user's own activity.
const usedWith: Record<string, string> = { email: 'an email code', totp: 'the authenticator app', password: 'the password' };
const wrong: Record<string, string> = { email: 'A wrong email code', totp: 'A wrong authenticator code', password: 'A wrong password' };
const methodTitle: Record<string, string> = { email: 'Codes by email', totp: 'Authenticator app' };

function describeEvent(e: SecurityEvent): string {
  const m = e.method ?? '';
  switch (e.event) {
    case 'login-success':
      if (e.details.secondFactor === 'remembered-device') return 'Signed in on a remembered device (no code asked)';
      return usedWith[m] ? `Signed in with ${usedWith[m]}` : 'Signed in';
    case 'device-remembered': return 'A device was remembered';
    case 'device-forgotten': return e.details.devices === 1 ? 'A remembered device was forgotten' : 'Remembered devices were forgotten';
    case 'login-failure': return 'Sign-in failed';
    case 'login-blocked': return 'Sign-in blocked after too many failures';
    case 'code-sent': return 'A code was sent by email';
    case '2fa-success': return e.details.backupCode ? 'A backup code was used' : `Confirmed with ${usedWith[m] ?? 'a second factor'}`;
    case '2fa-failure': return `${wrong[m] ?? 'A wrong code'} was entered`;
    case 'lockout': return 'Too many wrong codes: checks paused';
    case 'totp-replay': return 'An authenticator code was used twice';
    case 'rate-limited': return 'Too many requests';
    case 'method-enabled': return `${methodTitle[m] ?? 'A second factor'} turned on`;
    case 'method-disabled': return `${methodTitle[m] ?? 'A second factor'} turned off`;
    case 'backup-codes-regenerated': return 'New backup codes made';
    case '2fa-reset': return 'Second factors reset by an administrator';
    case '2fa-suspended': return 'Second-factor checks suspended after too many wrong codes';
    case '2fa-recovered': return 'Second-factor checks restored';
    case 'session-revoked': return e.details.others ? 'Signed out everywhere else' : 'A session was signed out';
    default: return e.event;
  }
}

export async function sessionsPage(): Promise<Node> {
  if (!getSession()) {
    navigate('/login', undefined, true);
    return h('p', {}, 'Loading…');
  }
  const root = h('div', { class: 'security' });
  const flash = flashMessage();
  const me = await api<Me>('GET', '/api/v1/me');
  const verifiedEmails = me.emails.filter((e) => e.verified).map((e) => e.address);

  async function reload(text?: string): Promise<void> {
    const note = text ? h('p', { role: 'status', class: 'msg info', tabindex: -1, 'data-flash': '' }, text) : null;
    await load(note);
    note?.focus();
  }

  async function load(message: HTMLElement | null): Promise<void> {
    const [sessions, tokens, events] = await Promise.all([
      api<{ sessions: SessionInfo[]; devices: DeviceInfo[] }>('GET', '/api/v1/users.sessions.list'),
      api<{ tokens: PersonalToken[] }>('GET', '/api/v1/users.getPersonalAccessTokens'),
      api<{ events: SecurityEvent[] }>('GET', '/api/v1/users.audit.mine'),
    ]);
    root.replaceChildren(
      h('h1', { tabindex: -1 }, 'Sessions and access'),
      h('p', { class: 'who' }, `Signed in as ${me.username}`),
      message ?? '',
      sessionsSection(sessions.sessions, sessions.devices),
      tokensSection(tokens.tokens),
      activitySection(events.events),
      h('p', {}, h('a', { href: '/security', 'data-link': '' }, 'Back to account security')),
    );
  }

  function sessionsSection(sessions: SessionInfo[], devices: DeviceInfo[]): HTMLElement {
    const error = messageArea('alert');
    const section = h('section', { class: 'card', 'aria-labelledby': 'sessions-title' }, h('h2', { id: 'sessions-title' }, 'Where you are signed in'));
    const run = (work: () => Promise<void>) => async () => {
      error.show(null);
      try {
        await busy(section, work);
      } catch (e) {
        error.show(describeError(e));
      }
    };
    const others = sessions.filter((s) => !s.current).length;
    section.append(
      // This browser first, then the others as the server orders them (most recently used first).
      h('ul', { class: 'sessions-list', 'data-testid': 'sessions' }, [...sessions].sort((a, b) => Number(b.current) - Number(a.current)).map((s) => h('li', {},
        h('div', { class: 'session-row' },
          h('div', {},
            h('p', { class: 'session-agent', title: s.userAgent ?? '' }, describeAgent(s.userAgent), s.current ? h('span', { class: 'badge on' }, 'This browser') : ''),
            h('p', { class: 'meta' }, `Address ${s.clientAddress ?? 'unknown'} · signed in ${when(s.createdAt)} · `,
              s.lastUsedAt ? `last active ${when(s.lastUsedAt)}` : 'not used since signing in')),
          h('button', {
            type: 'button', class: s.current ? '' : 'danger', 'aria-label': `Sign out ${describeAgent(s.userAgent)}${s.current ? ' (this browser)' : ''}`,
            onclick: run(async () => {
              await api('POST', '/api/v1/users.sessions.revoke', { body: { id: s.id } });
              if (s.current) {
                setSession(null);
                navigate('/login', 'You are signed out.');
                return;
              }
              await reload('That session is signed out.');
            }),
          }, 'Sign out'))))),
      error,
      others > 0
        ? h('div', { class: 'actions' }, h('button', {
          type: 'button', class: 'danger',
          onclick: run(async () => {
            const r = await api<{ revoked: number }>('POST', '/api/v1/users.sessions.revokeOthers');
            await reload(`Signed out everywhere else (${r.revoked} session${r.revoked === 1 ? '' : 's'}).`);
          }),
        }, 'Sign out everywhere else'))
        : h('p', { class: 'hint' }, 'You are not signed in anywhere else.'),
      h('h3', { id: 'devices-title' }, 'Remembered devices'),
      h('p', { class: 'hint' }, 'Signing in on these asks for your password but no code. Forget one and its next sign-in asks for a code again.'),
      devices.length === 0
        ? h('p', { class: 'hint', 'data-testid': 'devices' }, 'No remembered devices.')
        : h('ul', { class: 'sessions-list', 'data-testid': 'devices', 'aria-labelledby': 'devices-title' }, devices.map((d) => h('li', {},
          h('div', { class: 'session-row' },
            h('div', {},
              h('p', { class: 'session-agent', title: d.userAgent ?? '' }, describeAgent(d.userAgent)),
              h('p', { class: 'meta' }, `Address ${d.clientAddress ?? 'unknown'} · remembered ${when(d.createdAt)} · `,
                d.lastUsedAt ? `last sign-in ${when(d.lastUsedAt)}` : 'not used to sign in yet', ` · until ${when(d.expiresAt)}`)),
            h('button', {
              type: 'button', class: 'danger', 'aria-label': `Forget ${describeAgent(d.userAgent)}, remembered ${when(d.createdAt)}`,
              onclick: run(async () => {
                await api('POST', '/api/v1/users.devices.revoke', { body: { id: d.id } });
                await reload('That device is forgotten: its next sign-in asks for a code.');
              }),
            }, 'Forget'))))),
      devices.length > 1
        ? h('div', { class: 'actions' }, h('button', {
          type: 'button', class: 'danger',
          onclick: run(async () => {
            const r = await api<{ revoked: number }>('POST', '/api/v1/users.devices.revokeAll');
            await reload(`Forgot ${r.revoked} device${r.revoked === 1 ? '' : 's'}: each next sign-in asks for a code.`);
          }),
        }, 'Forget all devices'))
        : '',
    );
    return section;
  }

  function tokensSection(tokens: PersonalToken[]): HTMLElement {
    const error = messageArea('alert');
    const section = h('section', { class: 'card', 'aria-labelledby': 'tokens-title' }, h('h2', { id: 'tokens-title' }, 'Personal access tokens'));
    const name = h('input', { name: 'tokenName', maxlength: 128, required: true, autocomplete: 'off' });
    const created = h('div', {});
    const stepUp = (reason: string) => ({ reason, emails: verifiedEmails });
    const form: HTMLFormElement = h('form', {
      class: 'stack', novalidate: true,
      onsubmit: (ev) => {
        ev.preventDefault();
        void create();
      },
    }, h('h3', {}, 'New token'), field('Token name', name, 'Scripts and bots sign in with a token instead of your password. It is shown once.'), h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create token')));

    async function create(): Promise<void> {
      error.show(null);
      const tokenName = name.value.trim();
      if (!tokenName) {
        error.show('Give the token a name first.');
        name.focus();
        return;
      }
      try {
        const r = await busy(form, () => withSecondFactor((twoFactor) => api<{ token: string }>('POST', '/api/v1/users.generatePersonalAccessToken', { body: { tokenName }, twoFactor }), stepUp('To create an access token, confirm it is you.')));
        if (!r) return;
        await reload(`Token “${tokenName}” created.`);
        showToken(tokenName, r.token);
      } catch (e) {
        error.show(e instanceof ApiError && e.code === 'error-token-already-exists' ? 'You already have a token with that name.' : describeError(e));
        name.focus();
      }
    }

    section.append(
      tokens.length === 0
        ? h('p', { class: 'hint' }, 'You have no personal access tokens.')
        : h('ul', { class: 'sessions-list', 'data-testid': 'tokens' }, tokens.map((t) => h('li', {}, h('div', { class: 'session-row' },
          h('div', {}, h('p', { class: 'session-agent' }, t.name), h('p', { class: 'meta' }, `Created ${when(t.createdAt)} · ends in …${t.lastTokenPart}`)),
          h('button', {
            type: 'button', class: 'danger', 'aria-label': `Revoke ${t.name}`,
            onclick: async () => {
              error.show(null);
              try {
                const r = await busy(section, () => withSecondFactor((twoFactor) => api('POST', '/api/v1/users.removePersonalAccessToken', { body: { tokenName: t.name }, twoFactor }), stepUp(`To revoke the token “${t.name}”, confirm it is you.`)));
                if (r) await reload(`Token “${t.name}” revoked.`);
              } catch (e) {
                error.show(describeError(e));
              }
            },
          }, 'Revoke'))))),
      created, error, form,
    );
    return section;
  }

  /** The new token, once, with a way to copy it; lives in the reloaded page's token section. */
  function showToken(tokenName: string, token: string): void {
    const copied = messageArea('status');
    const heading = h('h3', { tabindex: -1 }, `Your new token “${tokenName}”`);
    const box = h('div', { class: 'msg warn new-token stack', 'data-testid': 'new-token' },
      heading,
      h('p', {}, 'Copy it now: it is not shown again. Send it as X-Auth-Token with X-User-Id ', h('code', {}, me._id), '.'),
      h('p', {}, h('code', {}, token)),
      h('div', { class: 'actions' }, h('button', {
        type: 'button',
        onclick: () => void navigator.clipboard.writeText(token).then(() => copied.show('Token copied.'), () => copied.show('Copying is not allowed here; select the token instead.')),
      }, 'Copy token')),
      copied);
    root.querySelector('[aria-labelledby="tokens-title"] h2')?.after(box);
    focusSoon(heading);
  }

  function activitySection(events: SecurityEvent[]): HTMLElement {
    return h('section', { class: 'card', 'aria-labelledby': 'activity-title' },
      h('h2', { id: 'activity-title' }, 'Recent security activity'),
      events.length === 0
        ? h('p', { class: 'hint' }, 'Nothing yet.')
        : h('ul', { class: 'events-list', 'data-testid': 'events' }, events.map((e) => h('li', {},
          h('p', { class: 'session-agent' }, describeEvent(e)),
          h('p', { class: 'meta' }, `${when(e.ts)} · from ${e.clientAddress}`)))));
  }

  await load(flash);
  return root;
}
