// A monitor kind's parameters, drawn from its field descriptors
// (GET /api/v1/monitor-kinds): one input per field, by type. Labels and
// help come from the appliance in English; a parameter name the catalogue
// knows is shown in the user's language instead.

import type { KindField, MonitorKind } from '../../api/monitors';
import { t, tOr } from '../../i18n';
import { Area, Check, Input, Select } from '../Inputs';

export interface KindFieldsProps {
  kind: MonitorKind;
  values: Record<string, string | boolean>;
  errors: Record<string, string>;
  credentials: string[] | undefined;
  onValue: (name: string, v: string | boolean) => void;
}

/** A parameter's label: the catalogue's for this kind's parameter (monitors.param.<kind>.<name>), else the appliance's. */
export const paramLabel = (kind: string, fd: KindField) => tOr(`monitors.param.${kind}.${fd.name}`, fd.label || fd.name);

function hint(kind: string, fd: KindField): string | undefined {
  const parts: string[] = [];
  if (fd.help) parts.push(tOr(`monitors.paramHelp.${kind}.${fd.name}`, fd.help));
  if (fd.type === 'list') parts.push(t('monitors.h.list'));
  if (fd.type === 'duration') parts.push(t('monitors.h.duration'));
  if (fd.default !== undefined && fd.default !== null && fd.type !== 'bool') {
    const d = fd.default;
    parts.push(t('monitors.h.default', { value: typeof d === 'string' ? d : Array.isArray(d) ? d.map(String).join(', ') : JSON.stringify(d) }));
  }
  return parts.join(' ') || undefined;
}

/** Fields shown before "more settings": a kind lists its main ones first. */
const mainFields = 4;

export function KindFields({ kind, values, errors, credentials, onValue }: KindFieldsProps) {
  const fields = kind.fields ?? [];
  if (fields.length === 0) return <p class="muted small">{t('monitors.noParams')}</p>;
  const field = (fd: KindField) => (
    <KindField key={fd.name} kind={kind.name} fd={fd} value={values[fd.name]} error={errors[`p-${fd.name}`]} credentials={credentials} onValue={(v) => onValue(fd.name, v)} />
  );
  const main = fields.filter((fd, at) => fd.required === true || mainFields > at);
  const more = fields.filter((fd) => !main.includes(fd));
  // Open when something in it is set or refused, so nothing that matters is hidden.
  const open = more.some((fd) => errors[`p-${fd.name}`] || (fd.type !== 'bool' && values[fd.name]));
  return (
    <>
      <div class="form-grid">{main.map(field)}</div>
      {more.length > 0 && (
        <details class="more-params" open={open}>
          <summary>{t('monitors.moreParams', { n: more.length })}</summary>
          <div class="form-grid">{more.map(field)}</div>
        </details>
      )}
    </>
  );
}

function KindField({
  kind,
  fd,
  value,
  error,
  credentials,
  onValue,
}: {
  kind: string;
  fd: KindField;
  value: string | boolean | undefined;
  error: string | undefined;
  credentials: string[] | undefined;
  onValue: (v: string | boolean) => void;
}) {
  const id = `mon-p-${fd.name}`;
  const name = paramLabel(kind, fd);
  const label = fd.required ? t('monitors.requiredLabel', { label: name }) : name;
  const text = typeof value === 'string' ? value : '';
  const common = { id, label, error, hint: hint(kind, fd) };
  switch (fd.type) {
    case 'bool':
      return <Check id={id} label={name} checked={value === true} onChecked={onValue} />;
    case 'text':
      return <Area {...common} value={text} onValue={onValue} />;
    case 'list':
      return <Area {...common} value={text} onValue={onValue} rows={4} />;
    case 'json':
      return <Area {...common} value={text} onValue={onValue} rows={5} />;
    case 'select': {
      const opts: [string, string][] = (fd.options ?? []).map((o) => [o, tOr(`monitors.option.${o}`, o)]);
      return <Select {...common} value={text} onValue={onValue} options={[['', t('monitors.defaultOption')], ...opts]} />;
    }
    case 'credential':
      if (credentials) {
        const opts: [string, string][] = credentials.map((c) => [c, c]);
        // A monitor naming a credential this user cannot list keeps it.
        if (text && !credentials.includes(text)) opts.push([text, text]);
        return <Select {...common} value={text} onValue={onValue} options={[['', t('monitors.noCredential')], ...opts]} />;
      }
      return <Input {...common} value={text} onValue={onValue} />;
    default:
      return <Input {...common} value={text} onValue={onValue} />;
  }
}
