import { attemptsLeft, chargedAttempts, isBudgetSpent, lastAttemptNumber } from './attempt-budget';

describe('attempt budget', () => {
  it('charges the attempts after the base: a manual retry or a free hand-back moved it on', () => {
    expect(chargedAttempts(3, { attemptBase: 0 })).toBe(3);
    expect(chargedAttempts(5, { attemptBase: 4 })).toBe(1);
  });

  it('is spent once the charged attempts reach maxAttempts', () => {
    expect(isBudgetSpent(2, { maxAttempts: 3 })).toBe(false);
    expect(isBudgetSpent(3, { maxAttempts: 3 })).toBe(true);
  });

  it('numbers the last attempt of the budget after its base', () => {
    expect(lastAttemptNumber({ attemptBase: 4, maxAttempts: 5 })).toBe(9);
  });

  it('leaves a new job what remains of the budget, never fewer than one attempt', () => {
    expect(attemptsLeft({ maxAttempts: 5, attemptBase: 0, attemptsMade: 2 })).toBe(3);
    expect(attemptsLeft({ maxAttempts: 5, attemptBase: 4, attemptsMade: 5 })).toBe(4);
    expect(attemptsLeft({ maxAttempts: 5, attemptBase: 0, attemptsMade: 6 })).toBe(1);
  });
});
