// The few workerd globals the edge worker uses, as workerd documents them (the full set is
// npm's @cloudflare/workers-types, which would also replace the DOM lib the storefront needs).

/** An element as HTMLRewriter's handlers see it. */
interface HTMLRewriterElement {
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): HTMLRewriterElement;
  setInnerContent(content: string, options?: { html?: boolean }): HTMLRewriterElement;
}

interface HTMLRewriterElementHandlers {
  element?(element: HTMLRewriterElement): void | Promise<void>;
}

/** Rewrites HTML as it streams through a Response. */
declare class HTMLRewriter {
  constructor();
  on(selector: string, handlers: HTMLRewriterElementHandlers): HTMLRewriter;
  transform(response: Response): Response;
}

/** A module worker's third `fetch` argument. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}
