import { describe, expect, it } from 'vitest';
import { GroveError } from '../../shared/errors/grove-error.js';
import { checkName, checkSubject, checkSubjects, streamNameFor, subjectMatches } from './nats-subjects.js';

function refused(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(GroveError);
    expect((err as GroveError).code).toBe('GROVE_ERR_STREAM_CONFIG');
    return (err as GroveError).message;
  }
  throw new Error('accepted');
}

describe('NATS subjects', () => {
  it('matches * to one token and > to one or more', () => {
    expect(subjectMatches('rows.churn', 'rows.churn')).toBe(true);
    expect(subjectMatches('rows.*', 'rows.churn')).toBe(true);
    expect(subjectMatches('rows.*', 'rows.churn.errors')).toBe(false);
    expect(subjectMatches('rows.>', 'rows.churn.errors')).toBe(true);
    expect(subjectMatches('rows.>', 'rows')).toBe(false);
    expect(subjectMatches('>', 'a')).toBe(true);
    expect(subjectMatches('rows.churn', 'rows')).toBe(false);
    expect(subjectMatches('rows', 'rows.churn')).toBe(false);
  });

  it('checks subjects and names', () => {
    expect(checkSubject('rows.>', '--subject', true)).toBe('rows.>');
    refused(() => checkSubject('rows.>', '--output-subject', false));
    refused(() => checkSubject('rows..x', '--subject', true));
    refused(() => checkSubject('rows x', '--subject', true));
    refused(() => checkSubject('rows.>.x', '--subject', true));
    refused(() => checkSubject('rows.a*', '--subject', true));
    refused(() => checkSubject('', '--subject', true));
    expect(checkName('grove-churn_1', '--durable')).toBe('grove-churn_1');
    refused(() => checkName('a.b', '--durable'));
    refused(() => checkName('', '--stream'));
  });

  it('refuses outputs the input subject would read back', () => {
    expect(
      checkSubjects({
        input: 'rows.churn',
        output: 'predictions.churn',
        deadLetter: 'predictions.churn.errors',
      }),
    ).toBeTruthy();
    expect(refused(() => checkSubjects({ input: 'rows.>', output: 'rows.out', deadLetter: 'dlq' }))).toMatch(
      /read back/,
    );
    refused(() => checkSubjects({ input: 'rows.*', output: 'out', deadLetter: 'rows.errors' }));
    refused(() => checkSubjects({ input: 'rows', output: 'out', deadLetter: 'out' }));
  });

  it('names created streams after their subject', () => {
    expect(streamNameFor('predictions.churn')).toBe('grove-predictions_churn');
    expect(streamNameFor('rows.*.x.>')).toBe('grove-rows_any_x_all');
    expect(checkName(streamNameFor('a'.repeat(300)), '--stream')).toHaveLength(128);
  });
});
