// The part of simpleddp's API the client tests use (the package ships no types).
declare module 'simpleddp' {
  export interface SimpleDDPOptions {
    endpoint: string;
    SocketConstructor: unknown;
    reconnectInterval?: number;
    autoConnect?: boolean;
    autoReconnect?: boolean;
    maxTimeout?: number;
  }
  export default class simpleDDP {
    constructor(opts: SimpleDDPOptions, plugins?: unknown[]);
    connected: boolean;
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    /** Resolves with the method's result; rejects with the Meteor error object. */
    call(method: string, ...args: unknown[]): Promise<unknown>;
    apply(method: string, args?: unknown[]): Promise<unknown>;
  }
}
