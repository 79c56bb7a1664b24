import { api } from '../api.ts';
import { busy, h, messageArea } from '../dom.ts';
import { describeError } from '../messages.ts';
import { withSecondFactor } from '../step-up.ts';
import type { SectionContext } from './security.ts';

export function emailSection(ctx: SectionContext): HTMLElement {
  const { me, verifiedEmails } = ctx;
  const on = me.services.email2fa.enabled;
  const error = messageArea('alert');
  const info = messageArea('status');
  const section = h('section', { class: 'card', 'aria-labelledby': 'email-title' },
    h('h2', { id: 'email-title' }, 'Codes by email'),
    h('p', { class: 'state', 'data-testid': 'email-state' },
      h('span', { class: on ? 'badge on' : 'badge off' }, on ? 'On' : 'Off'),
      on ? ` Sign-in codes go to ${verifiedEmails.join(' and ')}.` : ' We can email you a 6-digit code when you sign in.'),
  );
  const actions = h('div', { class: 'actions' });

  const run = (work: () => Promise<unknown>) => async () => {
    error.show(null);
    try {
      await busy(section, work);
    } catch (e) {
      error.show(describeError(e));
    }
  };

  if (on) {
    actions.append(h('button', {
      type: 'button',
      onclick: run(async () => {
        const done = await withSecondFactor((twoFactor) => api('POST', '/api/v1/users.2fa.disableEmail', { twoFactor }), {
          reason: 'To turn off codes by email, confirm it is you.', emails: verifiedEmails,
        });
        if (done) await ctx.refresh('Codes by email are off.');
      }),
    }, 'Turn off codes by email'));
  } else if (verifiedEmails.length > 0) {
    actions.append(h('button', {
      type: 'button', class: 'primary',
      onclick: run(async () => {
        const done = await withSecondFactor((twoFactor) => api('POST', '/api/v1/users.2fa.enableEmail', { twoFactor }), {
          reason: 'To turn on codes by email, confirm it is you.', emails: verifiedEmails,
        });
        if (done) await ctx.refresh(`Codes by email are on. They go to ${verifiedEmails.join(' and ')}.`);
      }),
    }, 'Turn on codes by email'));
  } else {
    const unverified = me.emails[0]?.address;
    section.append(h('p', { class: 'hint' }, unverified
      ? `First confirm ${unverified}: open the link we emailed you.`
      : 'Your account has no email address.'));
    if (unverified) {
      actions.append(h('button', {
        type: 'button',
        onclick: run(async () => {
          await api('POST', '/api/v1/users.sendConfirmationEmail', { body: { email: unverified } });
          info.show(`We sent a new link to ${unverified}.`);
        }),
      }, 'Send the link again'));
    }
  }
  section.append(actions, error, info);
  return section;
}
