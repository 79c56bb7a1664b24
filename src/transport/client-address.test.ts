import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddressOf } from './client-address.ts';

describe('client address', () => {
  it('is the peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    assert.equal(clientAddressOf('203.0.113.9', '10.0.0.1', undefined), '203.0.113.9');
    assert.equal(clientAddressOf('::ffff:203.0.113.9', undefined, undefined), '203.0.113.9');
  });

  it('behind a trusted proxy is the address the proxy appended, not what the client wrote before it', () => {
    assert.equal(clientAddressOf('127.0.0.1', '10.0.0.1', '127.0.0.1'), '10.0.0.1');
    assert.equal(clientAddressOf('::ffff:127.0.0.1', 'spoofed, 1.2.3.4, 10.0.0.1', '127.0.0.1'), '10.0.0.1');
    assert.equal(clientAddressOf('127.0.0.1', ['1.2.3.4', '10.0.0.2, 10.0.0.1'], '127.0.0.1,10.0.0.1'), '10.0.0.2');
  });

  it('stops at a malformed entry and never takes an untrusted peer\'s header', () => {
    assert.equal(clientAddressOf('127.0.0.1', 'not an ip', '127.0.0.1'), '127.0.0.1');
    assert.equal(clientAddressOf('127.0.0.1', '10.0.0.9, garbage, 10.0.0.1', '127.0.0.1,10.0.0.1'), '10.0.0.1');
    assert.equal(clientAddressOf('198.51.100.7', '10.0.0.1', '127.0.0.1'), '198.51.100.7');
    assert.equal(clientAddressOf('127.0.0.1', '2001:DB8::1', '127.0.0.1'), '2001:db8::1');
  });
});
