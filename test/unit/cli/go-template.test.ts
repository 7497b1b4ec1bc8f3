import { describe, expect, it } from 'vitest';
import { GoTemplate, TemplateError, goString } from '../../../src/cli/format/go-template.js';
import { parseFormat, renderTemplate } from '../../../src/cli/format/format.js';

const run = (src: string, data: unknown): string => new GoTemplate(src).execute(data, 'a container');

describe('Go templates', () => {
  const c = { ID: 'abc', Names: 'web', State: { Status: 'running', Pid: 42 }, labels: { app: 'x', tier: 'db' }, list: ['a', 'b'], Label: (k: unknown) => (k === 'app' ? 'x' : '') };

  it('prints fields, nested fields, dot and literal text', () => {
    expect(run('{{.Names}}', c)).toBe('web');
    expect(run('id={{.ID}} pid={{.State.Pid}}', c)).toBe('id=abc pid=42');
    expect(run('{{.}}', 'plain')).toBe('plain');
  });

  it('finds camelCase keys under Docker\'s capitalised names', () => {
    expect(run('{{.State.Status}}', { state: { status: 'exited' } })).toBe('exited');
    expect(run('{{.NetworkSettings.IPAddress}}', { networkSettings: { ipAddress: '10.0.0.2' } })).toBe('10.0.0.2');
  });

  it('fails on an unknown field, naming it and the known ones', () => {
    expect(() => run('{{.Nmes}}', c)).toThrow(TemplateError);
    expect(() => run('{{.Nmes}}', c)).toThrow(/no field Nmes in a container \(fields: ID, Names/);
    expect(() => run('{{.State.Foo}}', c)).toThrow(/\.State\.Foo: no field Foo in \.State/);
  });

  it('json, join, upper, pipelines, len, index, printf', () => {
    expect(run('{{json .State}}', c)).toBe('{"Status":"running","Pid":42}');
    expect(run('{{json .}}', { a: 1, f: () => 1 })).toBe('{"a":1}');
    expect(run('{{join .list ","}}', c)).toBe('a,b');
    expect(run('{{.Names | upper}}', c)).toBe('WEB');
    expect(run('{{len .list}} {{index .list 1}} {{index .labels "tier"}}', c)).toBe('2 b db');
    expect(run('{{printf "%-5s|%3d" .Names 7}}', c)).toBe('web  |  7');
    expect(run('{{.Names | printf "<%s>"}}', c)).toBe('<web>');
  });

  it('if/else if/else, comparisons, and/or/not', () => {
    const t = '{{if eq .State.Status "running"}}up{{else if eq .State.Status "paused"}}paused{{else}}down{{end}}';
    expect(run(t, c)).toBe('up');
    expect(run(t, { State: { Status: 'paused' } })).toBe('paused');
    expect(run(t, { State: { Status: 'exited' } })).toBe('down');
    expect(run('{{if and .ID (not .missing)}}y{{end}}', { ID: 'a', missing: '' })).toBe('y');
    expect(run('{{if gt .State.Pid 10}}big{{end}}', c)).toBe('big');
  });

  it('range over lists and maps, with variables and else', () => {
    expect(run('{{range .list}}[{{.}}]{{end}}', c)).toBe('[a][b]');
    expect(run('{{range $k, $v := .labels}}{{$k}}={{$v}};{{end}}', c)).toBe('app=x;tier=db;');
    expect(run('{{range $i, $e := .list}}{{$i}}{{$e}}{{end}}', c)).toBe('0a1b');
    expect(run('{{range .none}}x{{else}}empty{{end}}', { none: [] })).toBe('empty');
    expect(run('{{range .list}}{{$.Names}}{{end}}', c)).toBe('webweb');
  });

  it('with, variables, trim markers and comments', () => {
    expect(run('{{with .State}}{{.Status}}{{end}}', c)).toBe('running');
    expect(run('{{$n := .Names}}{{$n}}', c)).toBe('web');
    expect(run('a  {{- /* note */ -}}  b {{- .ID -}} \n c', c)).toBe('ababcc');
  });

  it('methods take arguments', () => {
    expect(run('{{.Label "app"}}', c)).toBe('x');
  });

  it('prints values as Go does', () => {
    expect(goString(['a', 1])).toBe('[a 1]');
    expect(goString({ b: 2, a: 'x' })).toBe('map[a:x b:2]');
    expect(goString(null)).toBe('<no value>');
  });

  it('refuses bad syntax and unknown functions when parsed', () => {
    expect(() => new GoTemplate('{{.ID')).toThrow(/unclosed action/);
    expect(() => new GoTemplate('{{if .ID}}x')).toThrow(/unclosed \{\{if\}\}/);
    expect(() => new GoTemplate('{{end}}')).toThrow(/unexpected \{\{end\}\}/);
    expect(() => new GoTemplate('{{nope .ID}}')).toThrow(/function "nope" not defined/);
  });
});

describe('--format', () => {
  it('keeps built-in names, takes templates, and refuses other words', () => {
    expect(parseFormat('json', ['table', 'json'])).toEqual({ kind: 'json' });
    expect(parseFormat('{{.ID}}', ['table', 'json'])).toMatchObject({ kind: 'template', table: false });
    expect(() => parseFormat('yaml', ['table', 'json'])).toThrow(/expected table, json or a Go template/);
  });

  it('table templates print a header row and aligned columns; \\t is a tab', () => {
    const spec = parseFormat('table {{.ID}}\\t{{.Names}}', ['table']);
    if (spec.kind !== 'template') throw new Error('not a template');
    const out = renderTemplate(spec, [{ ID: 'a1', Names: 'web' }, { ID: 'b2', Names: 'db' }], { what: 'a container', headers: { ID: 'CONTAINER ID', Names: 'NAMES' } });
    expect(out).toBe('CONTAINER ID   NAMES\na1             web\nb2             db\n');
  });

  it('an unknown field in a table template fails even with no rows', () => {
    const spec = parseFormat('table {{.Bogus}}', ['table']);
    if (spec.kind !== 'template') throw new Error('not a template');
    expect(() => renderTemplate(spec, [], { what: 'a container', headers: { ID: 'CONTAINER ID' } })).toThrow(/no field Bogus/);
  });
});
