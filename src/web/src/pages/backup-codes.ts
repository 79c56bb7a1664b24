// Backup codes are shown once: this panel is the only place they ever appear.
import { focusSoon, h, messageArea } from '../dom.ts';

export function backupCodesPanel(codes: string[], done: () => void): HTMLElement {
  const status = messageArea('status');
  const text = `Twofold backup codes\nEach code signs you in once. Type it with or without the dash.\n\n${codes.join('\n')}\n`;
  const heading = h('h3', { tabindex: -1 }, 'Save your backup codes');
  const panel = h('div', { class: 'stack backup-codes', 'data-print': '' },
    heading,
    h('p', {}, 'If you lose your phone, each of these codes lets you sign in once. This is the only time they are shown: print, download or copy them now, and keep them somewhere safe. Type a code with or without the dash.'),
    h('ol', { class: 'codes', 'data-testid': 'backup-codes' }, codes.map((c) => h('li', {}, h('code', {}, c)))),
    status,
    h('div', { class: 'actions' },
      // The print style sheet leaves only this panel on paper.
      h('button', { type: 'button', onclick: () => { window.print(); status.show('Print dialog opened.'); } }, 'Print codes'),
      h('button', {
        type: 'button',
        onclick: () => void navigator.clipboard.writeText(text).then(() => status.show('Codes copied.'), () => status.show('Copying is not allowed here; download them instead.')),
      }, 'Copy codes'),
      h('button', {
        type: 'button',
        onclick: () => {
          const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
          const a = h('a', { href: url, download: 'twofold-backup-codes.txt' });
          document.body.append(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 10_000);
          status.show('Codes downloaded.');
        },
      }, 'Download codes'),
      h('button', { type: 'button', class: 'primary', onclick: done }, 'I have saved them'),
    ),
  );
  focusSoon(heading);
  return panel;
}
