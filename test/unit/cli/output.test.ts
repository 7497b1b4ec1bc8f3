import { describe, expect, it } from 'vitest';
import type { ContainerSummary } from '../../../src/api/types.js';
import { commandColumn, containerTable, ellipsis, formatTable, humanDuration, humanSize, statusText, timeAgo } from '../../../src/cli/output.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('humanDuration (Docker wording)', () => {
  it.each([
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [1 * S, '1 second'],
    [5 * S, '5 seconds'],
    [59 * S, '59 seconds'],
    [60 * S, 'About a minute'],
    [119 * S, 'About a minute'],
    [2 * M, '2 minutes'],
    [59 * M, '59 minutes'],
    [60 * M, 'About an hour'],
    [89 * M, 'About an hour'],
    [90 * M, '2 hours'],
    [47 * H, '47 hours'],
    [48 * H, '2 days'],
    [13 * D, '13 days'],
    [14 * D, '2 weeks'],
    [60 * D, '2 months'],
    [730 * D, '2 years'],
  ])('%d ms → %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  it('timeAgo', () => {
    const now = Date.parse('2026-01-01T00:00:10Z');
    expect(timeAgo('2026-01-01T00:00:05Z', now)).toBe('5 seconds ago');
    expect(timeAgo('2026-01-01T00:00:20Z', now)).toBe('Less than a second ago');
    expect(timeAgo(null, now)).toBe('');
  });
});

describe('statusText', () => {
  const now = Date.parse('2026-01-01T01:00:00Z');
  it('says Created, Up …, Exited (N) … ago', () => {
    const base = { exitCode: null, startedAt: null, finishedAt: null, statusText: '' };
    expect(statusText({ ...base, status: 'created' }, now)).toBe('Created');
    expect(statusText({ ...base, status: 'running', startedAt: '2026-01-01T00:59:55Z' }, now)).toBe('Up 5 seconds');
    expect(statusText({ ...base, status: 'exited', exitCode: 137, finishedAt: '2026-01-01T00:57:00Z' }, now)).toBe('Exited (137) 3 minutes ago');
  });
});

describe('command column', () => {
  it('joins, truncates to 20 with …, and quotes', () => {
    expect(commandColumn(['sh'])).toBe('"sh"');
    expect(commandColumn(['sh', '-c', 'while true; do sleep 1; done'])).toBe('"sh -c while true; d…"');
    expect([...JSON.parse(commandColumn(['x'.repeat(50)]))].length).toBe(20);
    expect(ellipsis('abc', 3)).toBe('abc');
    expect(ellipsis('abcd', 3)).toBe('ab…');
  });
});

describe('formatTable', () => {
  it('pads every column but the last to max(10, width + 3)', () => {
    const out = formatTable(['A', 'LONG HEADER', 'LAST'], [['x', 'y', 'z'], ['xxxxxxxxxx', '', 'last value']]);
    expect(out).toBe(
      'A            LONG HEADER   LAST\n' +
      'x            y             z\n' +
      'xxxxxxxxxx                 last value\n',
    );
  });

  it('renders the ps table like docker', () => {
    const now = Date.parse('2026-01-01T00:01:00Z');
    const c: ContainerSummary = {
      id: 'a'.repeat(64),
      name: 'web',
      template: 'busybox',
      command: ['sleep', '100'],
      status: 'running',
      statusText: '',
      exitCode: null,
      pid: 42,
      createdAt: '2026-01-01T00:00:55Z',
      startedAt: '2026-01-01T00:00:56Z',
      finishedAt: null,
      networkMode: 'bridge',
      networks: [{ name: 'bridge', ip: '10.88.0.2' }],
      ports: [],
    };
    const lines = containerTable([c], now).split('\n');
    expect(lines[0]).toBe('CONTAINER ID   NAME      TEMPLATE   COMMAND       CREATED         STATUS         PORTS');
    expect(lines[1]).toBe('aaaaaaaaaaaa   web       busybox    "sleep 100"   5 seconds ago   Up 4 seconds');
    expect(containerTable([{ ...c, statusText: 'Up 1 second' }], now).split('\n')[1]).toMatch(/ago   Up 1 second$/);
    const published = containerTable([{ ...c, ports: [{ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' }] }], now);
    expect(published.split('\n')[1]).toMatch(/Up 4 seconds   0\.0\.0\.0:8080->80\/tcp, 127\.0\.0\.1:5353->53\/udp$/);
  });
});

describe('humanSize', () => {
  it('uses decimal units and 3 significant digits', () => {
    expect(humanSize(0)).toBe('0B');
    expect(humanSize(999)).toBe('999B');
    expect(humanSize(4_261_234)).toBe('4.26MB');
    expect(humanSize(128_000)).toBe('128kB');
    expect(humanSize(1_200_000_000)).toBe('1.2GB');
  });
});
