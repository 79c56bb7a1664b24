// The parent side: every server, ceiling and load generator runs in its own Node process
// (started with the same Node and the same tsx loader), so load and server never share
// an event loop or a core's worth of JIT and GC.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Message } from './ipc.ts';

export const benchDir = dirname(dirname(fileURLToPath(import.meta.url)));
export const repoDir = dirname(benchDir);

export interface ChildOptions {
  env?: Record<string, string | undefined>;
  /** stdout and stderr of the child go here (servers log to it); default: stderr inherited, stdout dropped. */
  logFile?: string;
  nodeArgs?: string[];
}

export class Child {
  private readonly inbox: Message[] = [];
  private readonly waiters: { type: string; resolve(m: Message): void; reject(e: Error): void }[] = [];
  private exitError: Error | null = null;
  readonly exited: Promise<void>;

  private constructor(readonly name: string, readonly proc: ChildProcess, readonly logFile: string | undefined) {
    proc.on('message', (m: Message) => {
      if (m.type === 'error') {
        const err = new Error(`${name}: ${String((m as { message?: unknown }).message)}`);
        const w = this.waiters.shift();
        if (w) w.reject(err);
        else this.exitError = err;
        return;
      }
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
      else this.inbox.push(m);
    });
    this.exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
      this.exitError ??= new Error(`${name} exited (code ${code}, signal ${signal})${logFile ? `; its log: ${logFile}` : ''}`);
      for (const w of this.waiters.splice(0)) w.reject(this.exitError);
      resolve();
    }));
  }

  static start(name: string, script: string, opts: ChildOptions = {}): Child {
    const out = opts.logFile ? openSync(opts.logFile, 'a') : 'ignore';
    const err = opts.logFile ? out : 'inherit';
    const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', join(benchDir, script)], {
      cwd: repoDir,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', out, err, 'ipc'],
    });
    if (typeof out === 'number') closeSync(out);
    return new Child(name, proc, opts.logFile);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  send<M extends Message>(msg: M): void {
    if (this.exitError) throw this.exitError;
    this.proc.send(msg);
  }

  /** The next message of `type` from the child. */
  next<T extends Message = Message>(type: string, timeoutMs = 120_000): Promise<T> {
    const i = this.inbox.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as T);
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        type,
        resolve: (m) => { clearTimeout(timer); resolve(m as T); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
    });
  }

  /** Sends a request and waits for the answer of type `answer` (default: the same type). */
  async ask<T extends Message = Message>(msg: Message & Record<string, unknown>, answer: string = msg.type, timeoutMs?: number): Promise<T> {
    const pending = this.next<T>(answer, timeoutMs);
    this.send(msg);
    return pending;
  }

  async rss(): Promise<number> {
    return Number((await this.ask<{ type: 'rss'; rss: number }>({ type: 'rss' })).rss);
  }

  /** Asks the child to stop; kills it if it has not gone within a few seconds. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    try {
      this.proc.send({ type: 'stop' });
    } catch { /* already gone */ }
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}
