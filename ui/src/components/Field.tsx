interface FieldProps {
  id: string;
  label: string;
  value: string;
  onValue: (v: string) => void;
  /** The message for this field's invalid input, naming the field. */
  error?: string | undefined;
  hint?: string | undefined;
  password?: boolean;
  autocomplete?: string;
  autoFocus?: boolean;
  /** For names and codes: no capitals, no spelling check. */
  verbatim?: boolean;
  numeric?: boolean;
  maxLength?: number;
}

/**
 * A labelled input whose error names the field, in the user's language;
 * the browser's own validation bubbles are off (forms use noValidate), as
 * they speak the browser's language, not the one the user chose.
 */
export function Field({ id, label, value, onValue, error, hint, password, verbatim, numeric, ...rest }: FieldProps) {
  const described = [error ? `${id}-error` : '', hint && !error ? `${id}-hint` : ''].filter(Boolean).join(' ');
  const common = {
    id,
    name: id,
    value,
    onInput: (e: { currentTarget: HTMLInputElement }) => onValue(e.currentTarget.value),
    'aria-invalid': error ? true : undefined,
    'aria-describedby': described || undefined,
    ...rest,
  };
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>{label}</label>
      {password ? (
        <input type="password" {...common} />
      ) : (
        <input
          type="text"
          {...common}
          inputMode={numeric ? 'numeric' : undefined}
          autoCapitalize={verbatim ? 'none' : undefined}
          spellcheck={verbatim ? false : undefined}
        />
      )}
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
