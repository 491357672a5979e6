/**
 * Kept for the train stages until they move to the stage kit (stage.ts): the
 * stream combinators that lived here are replaced by the stage driver, which
 * owns iteration and busy time.
 */
export { streamFromAsync } from './stage-driver.js';
