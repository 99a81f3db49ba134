// Form pieces of the settings and search screens, beside Field: a select,
// a checkbox, a multi-line text and an input of any type (dates). Each
// error names its field in the user's language, as Field's does.

import type { ComponentChildren } from 'preact';

interface Common {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
}

function described(id: string, error?: string, hint?: string): string | undefined {
  return [error ? `${id}-error` : '', hint && !error ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined;
}

function Wrap({ id, label, error, hint, children }: Common & { children: ComponentChildren }) {
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>{label}</label>
      {children}
      {hint && !error && (
        <p id={`${id}-hint`} class="field-hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} class="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

export function Input({
  type = 'text',
  value,
  onValue,
  list,
  ...c
}: Common & { type?: 'text' | 'password' | 'datetime-local' | 'number'; value: string; onValue: (v: string) => void; list?: string }) {
  return (
    <Wrap {...c}>
      <input
        id={c.id}
        name={c.id}
        type={type as 'text'}
        value={value}
        list={list}
        autoCapitalize="none"
        spellcheck={false}
        aria-invalid={c.error ? true : undefined}
        aria-describedby={described(c.id, c.error, c.hint)}
        onInput={(e) => onValue(e.currentTarget.value)}
      />
    </Wrap>
  );
}

export function Area({ value, onValue, rows = 3, ...c }: Common & { value: string; onValue: (v: string) => void; rows?: number }) {
  return (
    <Wrap {...c}>
      <textarea
        id={c.id}
        name={c.id}
        rows={rows}
        value={value}
        spellcheck={false}
        aria-invalid={c.error ? true : undefined}
        aria-describedby={described(c.id, c.error, c.hint)}
        onInput={(e) => onValue(e.currentTarget.value)}
      />
    </Wrap>
  );
}

export function Select({
  value,
  onValue,
  options,
  ...c
}: Common & { value: string; onValue: (v: string) => void; options: [string, string][] }) {
  return (
    <Wrap {...c}>
      <select
        id={c.id}
        name={c.id}
        value={value}
        aria-invalid={c.error ? true : undefined}
        aria-describedby={described(c.id, c.error, c.hint)}
        onChange={(e) => onValue(e.currentTarget.value)}
      >
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </Wrap>
  );
}

export function Check({ id, label, checked, onChecked }: { id: string; label: string; checked: boolean; onChecked: (v: boolean) => void }) {
  return (
    <label class="check" for={id}>
      <input id={id} type="checkbox" checked={checked} onChange={(e) => onChecked(e.currentTarget.checked)} />
      <span>{label}</span>
    </label>
  );
}
