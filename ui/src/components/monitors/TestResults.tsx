// What "test now" answered (POST /api/v1/monitors/test): per node, the
// judged priority and message, each item with its value and its own
// priority, and the raw result the check saw.

import type { TestItem, TestResult } from '../../api/monitors';
import { t } from '../../i18n';
import { PriorityBadge } from './Priority';

export function itemValue(it: TestItem): string {
  const unit = it.unit ? ` ${it.unit}` : '';
  if (it.number !== undefined && it.number !== null) return `${it.number}${unit}`;
  if (it.text !== undefined && it.text !== null) return it.text;
  if (it.bool !== undefined && it.bool !== null) return it.bool ? t('monitors.true') : t('monitors.false');
  return '';
}

export function TestResults({ results }: { results: TestResult[] }) {
  if (results.length === 0) return <p class="muted">{t('monitors.test.noNodes')}</p>;
  return (
    <div class="test-results">
      {results.map((r) => (
        <section class="test-result" key={r.node} data-node={r.node} data-priority={r.priority} aria-label={t('monitors.test.on', { node: r.node_name || r.node })}>
          <h3 class="test-head">
            <span>{t('monitors.test.on', { node: r.node_name || r.node })}</span> <PriorityBadge p={r.priority} />
            {r.duration_ms !== undefined && <span class="muted small"> {t('monitors.test.took', { ms: Math.round(r.duration_ms) })}</span>}
          </h3>
          {r.message && <p class="message">{r.message}</p>}
          {r.error && (
            <p class="field-error" lang="en">
              {r.error}
            </p>
          )}
          {(r.items ?? []).length > 0 && (
            <table class="table stack test-items">
              <thead>
                <tr>
                  <th scope="col">{t('monitors.test.item')}</th>
                  <th scope="col" class="num">
                    {t('monitors.test.value')}
                  </th>
                  <th scope="col">{t('monitors.test.judgement')}</th>
                </tr>
              </thead>
              <tbody>
                {(r.items ?? []).map((it, i) => (
                  <tr key={`${it.key ?? ''}-${i}`} data-item={it.key ?? ''}>
                    <td data-label={t('monitors.test.item')}>{it.key || <span class="muted">{t('monitors.test.single')}</span>}</td>
                    <td data-label={t('monitors.test.value')} class="num">
                      {itemValue(it)}
                      {it.counter && <span class="muted small"> {t('monitors.test.counter')}</span>}
                    </td>
                    <td data-label={t('monitors.test.judgement')}>
                      {it.skipped ? (
                        <span class="muted">{t('monitors.test.skipped')}</span>
                      ) : it.priority ? (
                        <PriorityBadge p={it.priority} />
                      ) : (
                        <span class="muted">{t('common.none')}</span>
                      )}
                      {it.message && <span class="small"> {it.message}</span>}
                      {it.error && (
                        <span class="small" lang="en">
                          {' '}
                          {it.error}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <details class="test-raw" open={Boolean(r.raw)}>
            <summary>{t('monitors.test.raw')}</summary>
            {r.raw ? <pre class="raw">{r.raw}</pre> : <p class="muted small">{t('monitors.test.noRaw')}</p>}
          </details>
        </section>
      ))}
    </div>
  );
}
