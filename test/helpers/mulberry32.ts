/** The seeded generator the test folders share (defined with the library's other seeded helpers). */
export { mulberry32 } from '../../stages/core/seeded-random.js';
