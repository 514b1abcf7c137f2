// Minimal types for the parts of ssh2-sftp-client the SFTP connector uses (the package ships none).
declare module 'ssh2-sftp-client' {
  import type { Readable, Writable } from 'node:stream';
  export interface FileInfo {
    type: 'd' | '-' | 'l';
    name: string;
    size: number;
    modifyTime: number;
    accessTime: number;
  }
  export interface ConnectOptions {
    host: string;
    port?: number;
    username: string;
    password?: string;
    privateKey?: string | Buffer;
    passphrase?: string;
    readyTimeout?: number;
    retries?: number;
    hostVerifier?: (key: Buffer) => boolean;
    algorithms?: Record<string, string[]>;
    keepaliveInterval?: number;
    keepaliveCountMax?: number;
  }
  export default class SftpClient {
    /** `callbacks`: called on an error, end or close nobody asked for (defaults print to the console). */
    constructor(name?: string, callbacks?: { error?: (e: Error) => void; end?: () => void; close?: () => void });
    connect(options: ConnectOptions): Promise<unknown>;
    list(path: string): Promise<FileInfo[]>;
    exists(path: string): Promise<false | 'd' | '-' | 'l'>;
    stat(path: string): Promise<{ size: number; modifyTime: number; isFile: boolean }>;
    createReadStream(path: string, options?: Record<string, unknown>): Readable;
    createWriteStream(path: string, options?: Record<string, unknown>): Writable;
    put(src: Buffer | Readable | string, path: string, options?: Record<string, unknown>): Promise<string>;
    rename(from: string, to: string): Promise<string>;
    posixRename(from: string, to: string): Promise<string>;
    delete(path: string, notFoundOK?: boolean): Promise<string>;
    mkdir(path: string, recursive?: boolean): Promise<string>;
    end(): Promise<boolean>;
    on(event: string, cb: (...args: unknown[]) => void): void;
    removeListener(event: string, cb: (...args: unknown[]) => void): void;
  }
}
