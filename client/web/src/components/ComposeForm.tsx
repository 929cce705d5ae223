import { useCallback, useId, useRef, useState, type FormEvent } from 'react';
import { newIdempotencyKey } from '../api';
import type { SendResult } from '../useBlog';

export interface ComposeFormProps {
  /** The visible label of the text field. */
  label: string;
  placeholder: string;
  /** The field the API names in its errors (`title`, `content`). */
  field: string;
  buttonLabel: string;
  sendingLabel: string;
  /**
   * Sends the text; `retry` sends this form again (the banner's "Try again"); `key` is the text's
   * Idempotency-Key, the same for every sending of the same text until one is saved.
   */
  onSend(text: string, retry: () => void, key: string): Promise<SendResult>;
  className?: string;
  /** Shown hidden beside the label, for screen readers (which post a comment form belongs to). */
  labelContext?: string;
  /** Shown but not usable yet (the form of a post still being saved): same size, so nothing moves later. */
  disabled?: boolean;
  /**
   * The most characters the API takes (after trimming, as it counts them): shown as a count under the
   * field, and a longer text is not sent but refused here, before the server has to.
   */
  maxLength?: number;
}

/**
 * One text field and its button: Enter sends, the button is disabled while sending, the text stays until
 * the service has taken it, and the API's errors about the field are shown under it.
 */
/** How many characters the API counts: the text trimmed, in UTF-16 units (as JavaScript and zod count). */
export const countedLength = (text: string) => text.trim().length;

export function ComposeForm({ label, placeholder, field, buttonLabel, sendingLabel, onSend, className, labelContext, disabled = false, maxLength }: ComposeFormProps) {
  const id = useId();
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [formError, setFormError] = useState<string | undefined>();
  const textRef = useRef(text);
  textRef.current = text;
  const sendingRef = useRef(false);
  // One key per text until it is saved: a send after "may not have been saved" must not save it twice.
  const keyRef = useRef<{ text: string; key: string } | null>(null);

  const send = useCallback(async (): Promise<void> => {
    if (sendingRef.current || disabled) return;
    const length = countedLength(textRef.current);
    if (maxLength !== undefined && length > maxLength) {
      setFieldError(`Too long: at most ${maxLength} characters, and this has ${length}.`);
      setFormError(undefined);
      return;
    }
    sendingRef.current = true;
    setSending(true);
    setFieldError(undefined);
    setFormError(undefined);
    const sent = textRef.current;
    if (keyRef.current?.text !== sent) keyRef.current = { text: sent, key: newIdempotencyKey() };
    const result = await onSend(sent, () => void send(), keyRef.current.key);
    sendingRef.current = false;
    setSending(false);
    if (result.ok) {
      keyRef.current = null;
      // Whatever was typed while it was being sent is the next one: keep it.
      setText((current) => (current === sent ? '' : current));
      return;
    }
    setFieldError(result.fieldErrors[field]);
    setFormError(result.formError);
  }, [onSend, field, disabled, maxLength]);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void send();
  };

  const errorId = `${id}-error`;
  const countId = `${id}-count`;
  const hasError = Boolean(fieldError || formError);
  const length = countedLength(text);
  const over = maxLength !== undefined && length > maxLength;
  const describedBy = [hasError ? errorId : null, maxLength !== undefined ? countId : null].filter(Boolean).join(' ') || undefined;
  return (
    <form className={`compose ${className ?? ''}`} onSubmit={onSubmit} noValidate>
      <label htmlFor={`${id}-input`} className="compose-label">
        {label}
        {labelContext ? <span className="visually-hidden"> {labelContext}</span> : null}
      </label>
      <div className="compose-row">
        <input
          id={`${id}-input`}
          name={field}
          type="text"
          autoComplete="off"
          placeholder={placeholder}
          value={text}
          disabled={disabled}
          onChange={(event) => {
            setText(event.target.value);
            // An error about the field no longer holds once the field is edited.
            setFieldError(undefined);
          }}
          aria-invalid={fieldError || over ? true : undefined}
          aria-describedby={describedBy}
        />
        <button type="submit" disabled={sending || disabled}>
          {sending ? sendingLabel : buttonLabel}
        </button>
      </div>
      {/* Always there, so an error appearing does not push the page down. */}
      <div className="compose-foot">
        <p id={errorId} className="compose-error" aria-live="polite">
          {fieldError ?? formError ?? ''}
        </p>
        {maxLength !== undefined ? (
          <p id={countId} className={`compose-count${over ? ' is-over' : ''}`} data-testid="char-count" data-count={length}>
            <span aria-hidden="true">
              {length} / {maxLength}
            </span>
            <span className="visually-hidden">
              {length} of {maxLength} characters{over ? `, ${length - maxLength} too many` : ''}
            </span>
          </p>
        ) : null}
      </div>
      {maxLength !== undefined ? (
        // Said once when the text goes over the limit, not on every key.
        <p className="visually-hidden" aria-live="polite">
          {over ? `Over the limit of ${maxLength} characters` : ''}
        </p>
      ) : null}
    </form>
  );
}
