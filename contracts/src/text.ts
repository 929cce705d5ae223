import { z } from 'zod';

/**
 * A character a reader can see: a letter, digit, punctuation or symbol. Spaces and the invisible
 * format characters (zero-width space and joiners, the byte-order mark, bidi controls) are not, so a
 * title made only of them is as empty as one made of spaces.
 */
const VISIBLE_CHARACTER = /[\p{L}\p{N}\p{P}\p{S}]/u;

export function hasVisibleCharacter(text: string): boolean {
  return VISIBLE_CHARACTER.test(text);
}

/** A title or a comment as a person writes it: trimmed, with something visible in it, at most `max` characters. */
export function visibleTextSchema(field: string, max: number) {
  return z
    .string()
    .trim()
    .min(1, `${field} must not be empty`)
    .max(max)
    .refine(hasVisibleCharacter, `${field} must contain a visible character (spaces and zero-width characters alone are empty)`);
}

/**
 * JSON read from something not trusted to send it (a subscriber's answer, a stranger's NATS message), or
 * null when it is not JSON.
 */
export function parsedOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
