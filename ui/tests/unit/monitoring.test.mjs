// The status view's arithmetic (src/monitoring/grid.ts) and the monitor
// form's model (src/monitoring/form.ts): which rows a filter keeps, the
// grid's worst priority per cell, the scope tree's rolled-up counts, the
// form ↔ monitor conversion, the checks before sending, and which field an
// appliance's refusal names (with the appliance's real wording, from
// pollers/monitor and pollers/judge). Bundled with esbuild, the catalogue
// in English, as forms.test.mjs does.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ui = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let g;
let f;
let ApiError;

before(async () => {
  globalThis.localStorage ??= { getItem: () => 'en', setItem: () => undefined };
  const { build } = await import('esbuild');
  const src = (p) => JSON.stringify(join(ui, 'src', ...p.split('/')));
  const entry = `export * as g from ${src('monitoring/grid.ts')}; export * as f from ${src('monitoring/form.ts')}; export { ApiError } from ${src('api/client.ts')};`;
  const out = await build({
    stdin: { contents: entry, resolveDir: ui, loader: 'ts' },
    bundle: true,
    format: 'esm',
    write: false,
    platform: 'neutral',
    logLevel: 'silent',
  });
  const file = join(mkdtempSync(join(tmpdir(), 'mamori-ui-')), 'monitoring.mjs');
  writeFileSync(file, out.outputFiles[0].text);
  ({ g, f, ApiError } = await import(pathToFileURL(file).href));
});

const row = (node, monitor, priority, extra = {}) => ({ node, monitor, priority, node_name: node.toUpperCase(), monitor_name: `${monitor} check`, scope: 'web', ...extra });

test('filters: scope and the scopes beneath it, no scope, priorities, stale only, text', () => {
  const rows = [
    row('a', 'ping', 'critical', { scope: 'tokyo' }),
    row('b', 'ping', 'info', { scope: 'tokyo/web' }),
    row('c', 'ping', 'warning', { scope: 'tokyo-2' }),
    row('d', 'http', 'unknown', { scope: '', stale: true }),
  ];
  const ids = (flt) => g.filterRows(rows, { priorities: [], stale: false, text: '', ...flt }).map((r) => r.node);
  assert.deepEqual(ids({}), ['a', 'b', 'c', 'd']);
  assert.deepEqual(ids({ scope: 'tokyo' }), ['a', 'b'], 'tokyo holds tokyo/web, not tokyo-2');
  assert.deepEqual(ids({ scope: g.noScope }), ['d']);
  assert.deepEqual(ids({ priorities: ['critical', 'unknown'] }), ['a', 'd']);
  assert.deepEqual(ids({ stale: true }), ['d']);
  assert.deepEqual(ids({ text: 'HTTP' }), ['d'], 'the monitor name, case-insensitive');
  assert.deepEqual(ids({ text: 'b' }), ['b'], 'the node id or name');
});

test('grid: a column per monitor name, one cell per node × column with its worst item; nodes and columns worst first', () => {
  const grid = g.buildGrid([
    row('web1', 'disk', 'info', { item: 'disk:/' }),
    row('web1', 'disk', 'warning', { item: 'disk:/var' }),
    row('web2', 'disk', 'info', { item: 'disk:/' }),
    row('web2', 'ping', 'unknown', { stale: true }),
    row('db', 'ping', 'critical'),
    // another monitor of the same name, on another node: the same column
    row('db2', 'ping-db2', 'info', { monitor_name: 'ping check' }),
  ]);
  assert.deepEqual(grid.monitors.map((m) => [m.name, m.monitors]), [['ping check', ['ping', 'ping-db2']], ['disk check', ['disk']]], 'the column with the worst cell first');
  assert.deepEqual(grid.nodes.map((n) => [n.id, n.priority]), [['db', 'critical'], ['web2', 'unknown'], ['web1', 'warning'], ['db2', 'info']]);
  const disk1 = grid.cells.get(g.cellKey('web1', 'disk check'));
  assert.equal(disk1.priority, 'warning');
  assert.equal(disk1.rows.length, 2);
  assert.equal(grid.cells.get(g.cellKey('web2', 'ping check')).stale, true);
  assert.deepEqual(grid.cells.get(g.cellKey('db2', 'ping check')).monitors, ['ping-db2']);
  assert.equal(grid.cells.get(g.cellKey('db', 'disk check')), undefined, 'db has no disk monitor: an empty cell');
});

test('scope tree: parents roll up their children, a/b right under a, no scope last', () => {
  const s = (scope, critical, info, nodes = 1) => ({ scope, nodes, critical, unknown: 0, warning: 0, info, stale: 0 });
  const tree = g.scopeTree([s('tokyo/web', 1, 2), s('', 0, 1), s('tokyo-2', 0, 5), s('tokyo/db', 2, 0), s('osaka', 0, 1)]);
  assert.deepEqual(
    tree.map((e) => [e.scope, e.depth, e.counts.critical, e.counts.info]),
    [
      ['', 0, 3, 9],
      ['osaka', 1, 0, 1],
      ['tokyo', 1, 3, 2],
      ['tokyo/db', 2, 2, 0],
      ['tokyo/web', 2, 1, 2],
      ['tokyo-2', 1, 0, 5],
      [g.noScope, 1, 0, 1],
    ],
  );
  assert.equal(tree[2].counts.nodes, 2, 'tokyo: the nodes of tokyo/db and tokyo/web');
});

test('counts: a stale row counts as stale only, as the appliance rolls up', () => {
  const c = g.countRows([row('a', 'p', 'critical'), row('a', 'q', 'critical', { stale: true }), row('b', 'p', 'info')]);
  assert.deepEqual({ ...c }, { nodes: 2, critical: 1, unknown: 0, warning: 0, info: 1, stale: 1 });
});

const numericKind = {
  name: 'ping',
  label: 'Ping',
  value: 'numeric',
  where: 'appliance',
  fields: [
    { name: 'count', type: 'int', label: 'Probes', default: 3 },
    { name: 'interval', type: 'duration', label: 'Between probes' },
    { name: 'hosts', type: 'list', label: 'Extra hosts' },
    { name: 'privileged', type: 'bool', label: 'Raw socket', default: true },
    { name: 'family', type: 'select', label: 'Family', options: ['ip4', 'ip6'] },
    { name: 'extra', type: 'json', label: 'Extra' },
    { name: 'password', type: 'credential', label: 'Password', required: true },
  ],
};
const stringKind = { name: 'http_body', label: 'Body', value: 'string', where: 'appliance', fields: [] };

test("form → monitor: empty parameters are omitted (the kind's default applies), types parsed, judgement by value type", () => {
  const form = {
    ...f.blankForm(numericKind),
    id: 'web-1',
    name: 'Web',
    node: 'n1',
    notify: 'ops, night',
    info_max: '500',
    warn_max: '2000',
    items: [{ key: 'loss_pct', info_min: '', info_max: '10', warn_min: '', warn_max: '50' }],
    params: { count: '5', interval: '', hosts: 'a\n\n b \n', privileged: false, family: 'ip6', extra: '{"x": [1]}', password: 'pw-cred' },
  };
  const m = f.toMonitor(form, numericKind);
  assert.deepEqual(m.params, { count: 5, hosts: ['a', 'b'], privileged: false, family: 'ip6', extra: { x: [1] }, password: 'pw-cred' });
  assert.equal(m.node, 'n1');
  assert.equal(m.scope, undefined);
  assert.deepEqual(m.notify, ['ops', 'night']);
  assert.deepEqual(m.judgement, {
    failure: 'unknown',
    numeric: { info: { min: null, max: 500 }, warning: { min: null, max: 2000 } },
    items: { loss_pct: { info: { min: null, max: 10 }, warning: { min: null, max: 50 } } },
  });
  // and back: what the appliance answers opens as it was typed
  const back = f.toForm({ ...m, params: { ...m.params, unknown_param: 7 } }, numericKind);
  assert.equal(back.params.count, '5');
  assert.equal(back.params.hosts, 'a\nb');
  assert.equal(back.info_max, '500');
  assert.equal(back.items[0].warn_max, '50');
  assert.equal(back.notify, 'ops, night');
  assert.deepEqual(f.toMonitor(back, numericKind).params.unknown_param, 7, 'a parameter the kind does not describe is kept');
});

test('string and truth judgements; a scope target', () => {
  const form = { ...f.blankForm(stringKind), id: 's', target: 'scope', scope: 'web', patterns: [{ match: 'error', priority: 'critical', ignore_case: true, exclude: false, message: ' down ' }, { match: 'noise', priority: 'info', ignore_case: false, exclude: true, message: '' }] };
  const m = f.toMonitor(form, stringKind);
  assert.equal(m.scope, 'web');
  assert.equal(m.node, undefined);
  assert.deepEqual(m.judgement.patterns, [
    { match: 'error', priority: 'critical', ignore_case: true, message: 'down' },
    { match: 'noise', priority: 'info', exclude: true },
  ]);
  const truth = f.toMonitor({ ...f.blankForm(), id: 't', node: 'n', truth_false: 'warning' }, { ...stringKind, value: 'truth' });
  assert.deepEqual(truth.judgement, { failure: 'unknown', truth: { true: 'info', false: 'warning' } });
});

test('checks before sending name the field: inverted range, numbers, durations, regexps, required, JSON', () => {
  const form = {
    ...f.blankForm(numericKind),
    id: 'bad id!',
    interval: '30 seconds',
    info_min: '10',
    info_max: '5',
    warn_max: 'lots',
    items: [{ key: '', info_min: '', info_max: '', warn_min: '3', warn_max: '3' }],
    params: { count: '2.5', interval: '1x', hosts: '', privileged: true, family: 'ipx', extra: '{', password: '' },
  };
  const e = f.validateMonitor(form, numericKind);
  assert.match(e['id'], /^Monitor ID: /);
  assert.match(e['name'], /^Name: enter a value/);
  assert.match(e['node'], /^Node: enter a value/);
  assert.match(e['interval'], /^Interval: write a duration/);
  assert.match(e['j-info_min'], /^Info range: the lower end \(10\) must be below the upper end \(5\)/);
  assert.match(e['j-warn_max'], /^Warning below: enter a number/);
  assert.match(e['j-item-0-key'], /^Item key: enter a value/);
  assert.match(e['j-item-0-warn_min'], /Warning range: the lower end/);
  assert.match(e['p-count'], /^Probes: enter a whole number/);
  assert.match(e['p-interval'], /^Between probes: write a duration/);
  assert.match(e['p-family'], /^Family: choose one of ip4, ip6/);
  assert.match(e['p-extra'], /^Extra: this is not valid JSON/);
  assert.match(e['p-password'], /^Password: enter a value/);
  const order = f.fieldOrder(form, numericKind);
  assert.equal(order.find((k) => e[k]), 'id', "the first invalid field in the form's order");
  // "test now" needs no id or name
  const t = f.validateMonitor({ ...f.blankForm(stringKind), node: 'n', patterns: [{ match: 'disk (full', priority: 'critical', ignore_case: false, exclude: false, message: '' }] }, stringKind, true);
  assert.deepEqual(Object.keys(t), ['j-pat-0-match']);
  assert.match(t['j-pat-0-match'], /^Pattern 1: this regular expression does not compile/);
});

test('an appliance refusal lands on the field it names', () => {
  const form = { ...f.blankForm(numericKind), items: [{ key: 'loss_pct', info_min: '', info_max: '', warn_min: '', warn_max: '' }], patterns: [f.blankPattern(), f.blankPattern()] };
  const refusal = (msg) => f.refusedMonitorKey(new ApiError(400, 'bad_request', msg), form, numericKind);
  assert.equal(refusal('invalid monitor: judgement.numeric.info: min 5 is not below max 3 (the range is [min, max)): swap them or widen it'), 'j-info_min');
  assert.equal(refusal('invalid monitor: judgement.numeric.warning: min 5 is not below max 3'), 'j-warn_min');
  assert.equal(refusal('invalid monitor: judgement.items.loss_pct.info: min 5 is not below max 3'), 'j-item-0-key');
  assert.equal(refusal('invalid monitor: judgement.patterns[1].match: error parsing regexp: fix the regular expression (RE2 syntax)'), 'j-pat-1-match');
  assert.equal(refusal('invalid monitor: interval: a duration from 1s to 24h0m0s, like "30s" or "5m"'), 'interval');
  assert.equal(refusal('invalid monitor: params: bad monitor parameters: count: 1 to 100 probes'), 'p-count');
  assert.equal(refusal('invalid monitor: params: bad monitor parameters: interval: at least 10ms'), 'p-interval', "the kind's parameter, not the monitor's interval");
  assert.equal(refusal('invalid monitor: node, scope: name exactly one'), 'node');
  assert.equal(refusal('scope: no node is in scope web and none of your roles names it'), 'scope');
  assert.equal(f.refusedMonitorKey(new ApiError(403, 'forbidden', 'node: not yours'), form, numericKind), undefined, 'only a 400 names a field');
});

test('switching kind keeps the parameters both kinds have (same name and type) and drops the rest', () => {
  const other = { name: 'tcp', label: 'TCP', value: 'numeric', where: 'appliance', fields: [{ name: 'timeout', type: 'duration', label: 'Timeout' }, { name: 'count', type: 'bool', label: 'Count?' }] };
  const form = { ...f.blankForm(numericKind), params: { ...f.blankForm(numericKind).params, count: '5', interval: '1s' }, extra: { legacy: 1 } };
  const next = f.withKind({ ...form, params: { ...form.params, timeout: '3s' } }, other);
  assert.equal(next.kind, 'tcp');
  assert.deepEqual(next.params, { timeout: '3s', count: false }, 'count was a number, now a truth value: not kept');
  assert.deepEqual(next.extra, {});
});
