/**
 * Which suggestions were offered, and which (or which part) the user accepted: the `kvcomplete/didAccept`
 * notifications and the acceptance rate of the status bar.
 *
 * VS Code runs an item's command after a full accept, so a full accept names its offer directly. A partial
 * accept (next word, next line) has no such hook in the stable API: the extension runs VS Code's command
 * itself and reports the text it inserted, which `partial` matches against the recent offers of that
 * document. Offsets are UTF-16 code units (VS Code's `document.offsetAt`), the unit of JS strings.
 *
 * When the word (or line) is all that is left of the suggestion, VS Code's partial accept is a full accept: it
 * runs the item's command too. The text is reported once, by whichever of the two the extension hears first.
 */

/** The notification the server counts accepts with (lsp_server/server.py). */
export const DID_ACCEPT = 'kvcomplete/didAccept';

/** An item as the protocol has it, sent back to the server in `didAccept`. */
export interface OfferedItem {
  insertText: string;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
}

export interface Offer {
  readonly uri: string;
  /** Offset in the document where the item's text starts. */
  readonly start: number;
  readonly item: OfferedItem;
  /** The answer (one completion request) the item came in, for the acceptance rate. */
  readonly answer: number;
  /** Characters of the item already accepted by partial accepts. */
  accepted: number;
}

export interface DidAcceptParams {
  uri: string;
  item: OfferedItem;
  acceptedText: string;
}

/** Partial accepts are matched against the items of this many recent answers per document. */
export const ANSWERS_KEPT = 4;

export class AcceptTracker {
  private readonly offers = new Map<string, Offer[]>(); // per document, newest answer first
  private answers = 0;
  private readonly acceptedAnswers = new Set<number>();
  /** The text the last full accept inserted, and where, until a partial accept reports it a second time. */
  private lastFull: { uri: string; offset: number; text: string } | undefined;

  /** Record one non-empty answer; returns one offer per item, in order (the items' commands carry them). */
  offer(uri: string, items: { start: number; item: OfferedItem }[]): Offer[] {
    const answer = ++this.answers;
    const offers = items.map(({ start, item }) => ({ uri, start, item, answer, accepted: 0 }));
    const kept = (this.offers.get(uri) ?? []).filter((offer) => offer.answer > answer - ANSWERS_KEPT);
    this.offers.set(uri, [...offers, ...kept]);
    return offers;
  }

  /** A full accept of `offer`: the rest of its text that partial accepts had not taken yet (none: nothing). */
  full(offer: Offer): DidAcceptParams | undefined {
    const acceptedText = offer.item.insertText.slice(offer.accepted);
    this.acceptedAnswers.add(offer.answer);
    if (acceptedText === '') {
      return undefined;
    }
    this.lastFull = { uri: offer.uri, offset: offer.start + offer.accepted, text: acceptedText };
    offer.accepted = offer.item.insertText.length;
    return { uri: offer.uri, item: offer.item, acceptedText };
  }

  /**
   * `inserted` was inserted at `offset` by a partial accept. It belongs to the newest offer whose text,
   * laid at its start, agrees with the document up to `offset` (the user may have typed part of it) and
   * continues with `inserted`. `textBetween` reads the document; the text before `offset` is the same
   * before and after the insertion.
   */
  partial(uri: string, offset: number, inserted: string,
    textBetween: (start: number, end: number) => string): DidAcceptParams | undefined {
    const full = this.lastFull;
    if (full !== undefined && full.uri === uri && full.offset === offset && full.text === inserted) {
      this.lastFull = undefined;
      return undefined; // the full accept this partial accept turned into has reported it
    }
    const offer = (this.offers.get(uri) ?? []).find(({ start, item }) => {
      const done = offset - start;
      return done >= 0 && done < item.insertText.length
        && item.insertText.startsWith(inserted, done)
        && textBetween(start, offset) === item.insertText.slice(0, done);
    });
    if (offer === undefined || inserted === '') {
      return undefined;
    }
    offer.accepted = Math.max(offer.accepted, offset - offer.start + inserted.length);
    this.acceptedAnswers.add(offer.answer);
    return { uri, item: offer.item, acceptedText: inserted };
  }

  /** The document closed: its offers can no longer be accepted. */
  forget(uri: string): void {
    this.offers.delete(uri);
  }

  /** Non-empty answers so far, and how many of them had a suggestion accepted (fully or in part). */
  get counts(): { answers: number; accepted: number } {
    return { answers: this.answers, accepted: this.acceptedAnswers.size };
  }
}
