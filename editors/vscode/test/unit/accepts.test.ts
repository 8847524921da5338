import { describe, expect, it } from 'vitest';
import { ANSWERS_KEPT, AcceptTracker, type OfferedItem } from '../../src/accepts';

const item = (insertText: string): OfferedItem => ({
  insertText, range: { start: { line: 1, character: 4 }, end: { line: 1, character: 4 } },
});
const URI = 'file:///a.py';
const documentWith = (text: string) => (start: number, end: number) => text.slice(start, end);

describe('AcceptTracker', () => {
  it('reports a full accept with the whole text and counts the answer as accepted', () => {
    const tracker = new AcceptTracker();
    const [first, second] = tracker.offer(URI, [{ start: 10, item: item('return a + b') }, { start: 10, item: item('pass') }]);
    expect(tracker.counts).toEqual({ answers: 1, accepted: 0 });
    expect(tracker.full(second)).toEqual({ uri: URI, item: item('pass'), acceptedText: 'pass' });
    expect(first.accepted).toBe(0);
    expect(tracker.counts).toEqual({ answers: 1, accepted: 1 });
  });

  it('attributes successive partial accepts, then reports only the rest on a full accept', () => {
    const tracker = new AcceptTracker();
    const [offer] = tracker.offer(URI, [{ start: 3, item: item('return a + b') }]);
    let text = 'def';
    expect(tracker.partial(URI, 3, 'return ', documentWith(text))).toEqual({ uri: URI, item: offer.item, acceptedText: 'return ' });
    text += 'return ';
    expect(tracker.partial(URI, 10, 'a ', documentWith(text))?.acceptedText).toBe('a ');
    expect(tracker.full(offer)?.acceptedText).toBe('+ b');
    expect(tracker.counts).toEqual({ answers: 1, accepted: 1 });
  });

  it('matches a partial accept after text the user typed along', () => {
    const tracker = new AcceptTracker();
    tracker.offer(URI, [{ start: 0, item: item('print(x)') }, { start: 0, item: item('pass') }]);
    expect(tracker.partial(URI, 3, 'nt(', documentWith('pri'))?.item.insertText).toBe('print(x)');
  });

  it('ignores text that no suggestion continues with, or at another place, or in another document', () => {
    const tracker = new AcceptTracker();
    tracker.offer(URI, [{ start: 0, item: item('print(x)') }]);
    expect(tracker.partial(URI, 0, 'pass', documentWith(''))).toBeUndefined();
    expect(tracker.partial(URI, 2, 'int', documentWith('xx'))).toBeUndefined(); // the document disagrees
    expect(tracker.partial('file:///b.py', 0, 'print', documentWith(''))).toBeUndefined();
    expect(tracker.partial(URI, 0, '', documentWith(''))).toBeUndefined();
    expect(tracker.counts.accepted).toBe(0);
  });

  it('prefers the newest answer, and forgets answers older than the last few', () => {
    const tracker = new AcceptTracker();
    const [old] = tracker.offer(URI, [{ start: 0, item: item('foo()') }]);
    const [recent] = tracker.offer(URI, [{ start: 0, item: item('foo(1)') }]);
    expect(tracker.partial(URI, 0, 'foo', documentWith(''))?.item).toBe(recent.item);
    for (let answer = 0; answer < ANSWERS_KEPT; answer += 1) {
      tracker.offer(URI, [{ start: 50, item: item('other') }]);
    }
    expect(tracker.partial(URI, 0, 'foo', documentWith(''))).toBeUndefined();
    expect(old.accepted).toBe(0);
  });

  it("reports a word accept that took all that was left once: VS Code made it a full accept and ran the item's command", () => {
    // The extension may hear the item's command first (full, then the edit the partial accept saw)...
    let tracker = new AcceptTracker();
    let [offer] = tracker.offer(URI, [{ start: 0, item: item('return') }, { start: 0, item: item('return a') }]);
    expect(tracker.full(offer)?.acceptedText).toBe('return');
    expect(tracker.partial(URI, 0, 'return', documentWith(''))).toBeUndefined(); // nor the second item
    expect(tracker.partial(URI, 0, 'return', documentWith(''))?.acceptedText).toBe('return'); // a later one is news
    // ... or the partial accept's edit first: the full accept then has nothing left to report.
    tracker = new AcceptTracker();
    [offer] = tracker.offer(URI, [{ start: 0, item: item('return') }]);
    expect(tracker.partial(URI, 0, 'return', documentWith(''))?.acceptedText).toBe('return');
    expect(tracker.full(offer)).toBeUndefined();
    expect(tracker.counts).toEqual({ answers: 1, accepted: 1 });
  });

  it('forgets a closed document', () => {
    const tracker = new AcceptTracker();
    tracker.offer(URI, [{ start: 0, item: item('foo') }]);
    tracker.forget(URI);
    expect(tracker.partial(URI, 0, 'f', documentWith(''))).toBeUndefined();
  });
});
