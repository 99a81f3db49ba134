// The judgement of a monitor, by the kind's value type: numeric ranges
// (info, then warning, else critical; per item too), ordered string
// patterns (the first that matches decides), or a truth map; and the
// priority of a check that fails. What it edits is the form's strings;
// monitoring/form.ts turns them into the Monitor's judgement.

import { priorities } from '../../api/monitors';
import { t, tOr } from '../../i18n';
import { blankItem, blankPattern, type FormErrors, type ItemRow, type MonitorForm, type PatternRow } from '../../monitoring/form';
import { Check, Input, Select } from '../Inputs';

export interface JudgementProps {
  form: MonitorForm;
  value: string;
  errors: FormErrors;
  onChange: (f: Partial<MonitorForm>) => void;
}

const prioOptions = (): [string, string][] => priorities.map((p) => [p, tOr(`status.prio.${p}`, p)]);

export function JudgementEditor({ form, value, errors, onChange }: JudgementProps) {
  return (
    <div class="judgement">
      {value === 'numeric' && <Numeric form={form} errors={errors} onChange={onChange} />}
      {/* A numeric kind may read text items too (an HTTP body): patterns judge those. */}
      {value === 'numeric' && <h3 class="sub">{t('monitors.j.textItems')}</h3>}
      {(value === 'numeric' || value === 'string') && <Patterns rows={form.patterns} errors={errors} onRows={(patterns) => onChange({ patterns })} />}
      {value === 'truth' && (
        <div class="form-grid">
          <Select id="mon-j-truth_true" label={t('monitors.j.whenTrue')} value={form.truth_true} onValue={(v) => onChange({ truth_true: v })} options={prioOptions()} />
          <Select id="mon-j-truth_false" label={t('monitors.j.whenFalse')} value={form.truth_false} onValue={(v) => onChange({ truth_false: v })} options={prioOptions()} />
        </div>
      )}
      <div class="form-grid">
        <Select
          id="mon-j-failure"
          label={t('monitors.j.failure')}
          value={form.failure}
          onValue={(v) => onChange({ failure: v })}
          error={errors['j-failure']}
          hint={t('monitors.h.failure')}
          options={prioOptions()}
        />
      </div>
    </div>
  );
}

function Numeric({ form, errors, onChange }: { form: MonitorForm; errors: FormErrors; onChange: (f: Partial<MonitorForm>) => void }) {
  const setItem = (i: number, it: ItemRow) => onChange({ items: form.items.map((x, j) => (j === i ? it : x)) });
  return (
    <>
      <p class="muted small">{t('monitors.h.numeric')}</p>
      <Ranges prefix="mon-j-" errors={errors} errPrefix="j-" row={form} onRow={(r) => onChange(r)} />
      <Check id="mon-j-change_amount" label={t('monitors.j.changeAmount')} checked={form.change_amount} onChecked={(v) => onChange({ change_amount: v })} />
      <h3 class="sub">{t('monitors.j.items')}</h3>
      <p class="muted small">{t('monitors.h.items')}</p>
      {form.items.map((it, i) => (
        <fieldset class="judge-row" key={i}>
          <legend>{t('monitors.j.itemN', { n: i + 1 })}</legend>
          <Input id={`mon-j-item-${i}-key`} label={t('monitors.j.itemKey')} value={it.key} onValue={(v) => setItem(i, { ...it, key: v })} error={errors[`j-item-${i}-key`]} />
          <Ranges prefix={`mon-j-item-${i}-`} errPrefix={`j-item-${i}-`} errors={errors} row={it} onRow={(r) => setItem(i, { ...it, ...r })} />
          <button type="button" class="button small danger" onClick={() => onChange({ items: form.items.filter((_, j) => j !== i) })}>
            {t('monitors.j.removeItem', { n: i + 1 })}
          </button>
        </fieldset>
      ))}
      <button type="button" class="button small" id="mon-j-add-item" onClick={() => onChange({ items: [...form.items, blankItem()] })}>
        {t('monitors.j.addItem')}
      </button>
    </>
  );
}

type RangeRow = Pick<ItemRow, 'info_min' | 'info_max' | 'warn_min' | 'warn_max'>;

/** Info and warning ranges: [min, max), either end empty for none. */
function Ranges({ prefix, errPrefix, errors, row, onRow }: { prefix: string; errPrefix: string; errors: FormErrors; row: RangeRow; onRow: (r: Partial<RangeRow>) => void }) {
  const input = (k: keyof RangeRow, label: string) => (
    <Input id={`${prefix}${k}`} label={label} value={row[k]} onValue={(v) => onRow({ [k]: v })} error={errors[`${errPrefix}${k}`]} />
  );
  return (
    <div class="form-grid ranges">
      {input('info_min', t('monitors.j.infoMin'))}
      {input('info_max', t('monitors.j.infoMax'))}
      {input('warn_min', t('monitors.j.warnMin'))}
      {input('warn_max', t('monitors.j.warnMax'))}
    </div>
  );
}

function Patterns({ rows, errors, onRows }: { rows: PatternRow[]; errors: FormErrors; onRows: (r: PatternRow[]) => void }) {
  const set = (i: number, p: Partial<PatternRow>) => onRows(rows.map((x, j) => (j === i ? { ...x, ...p } : x)));
  const move = (i: number, d: -1 | 1) => {
    const next = [...rows];
    const [p] = next.splice(i, 1);
    if (p) next.splice(i + d, 0, p);
    onRows(next);
    // Keep the focus on the moved pattern's button.
    setTimeout(() => document.getElementById(`mon-j-pat-${i + d}-${d < 0 ? 'up' : 'down'}`)?.focus(), 0);
  };
  return (
    <>
      <p class="muted small">{t('monitors.h.patterns')}</p>
      <ol class="patterns">
        {rows.map((p, i) => (
          <li key={i}>
            <fieldset class="judge-row">
              <legend>{t('monitors.j.patternN', { n: i + 1 })}</legend>
              <div class="form-grid">
                <Input id={`mon-j-pat-${i}-match`} label={t('monitors.j.match')} value={p.match} onValue={(v) => set(i, { match: v })} error={errors[`j-pat-${i}-match`]} hint={t('monitors.h.regexp')} />
                <Select id={`mon-j-pat-${i}-priority`} label={t('monitors.j.priority')} value={p.priority} onValue={(v) => set(i, { priority: v })} options={prioOptions()} />
                <Input id={`mon-j-pat-${i}-message`} label={t('monitors.j.message')} value={p.message} onValue={(v) => set(i, { message: v })} />
              </div>
              <Check id={`mon-j-pat-${i}-ignore_case`} label={t('monitors.j.ignoreCase')} checked={p.ignore_case} onChecked={(v) => set(i, { ignore_case: v })} />
              <Check id={`mon-j-pat-${i}-exclude`} label={t('monitors.j.exclude')} checked={p.exclude} onChecked={(v) => set(i, { exclude: v })} />
              <div class="row-actions">
                <button type="button" class="button small" id={`mon-j-pat-${i}-up`} disabled={i === 0} onClick={() => move(i, -1)}>
                  {t('monitors.j.up')}
                </button>
                <button type="button" class="button small" id={`mon-j-pat-${i}-down`} disabled={i === rows.length - 1} onClick={() => move(i, 1)}>
                  {t('monitors.j.down')}
                </button>
                <button type="button" class="button small danger" onClick={() => onRows(rows.filter((_, j) => j !== i))}>
                  {t('monitors.j.removePattern', { n: i + 1 })}
                </button>
              </div>
            </fieldset>
          </li>
        ))}
      </ol>
      <button type="button" class="button small" id="mon-j-add-pattern" onClick={() => onRows([...rows, blankPattern()])}>
        {t('monitors.j.addPattern')}
      </button>
    </>
  );
}
