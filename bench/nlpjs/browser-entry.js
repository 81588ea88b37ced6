// What a web page needs to run nlp.js in the browser (the documented minimal setup:
// core + nlp + English without stemmer dictionaries). Bundled by
// `cargo xtask bench triage` only to measure the library's download size.
const { containerBootstrap } = require('@nlpjs/core');
const { Nlp } = require('@nlpjs/nlp');
const { LangEn } = require('@nlpjs/lang-en-min');

window.nlpjs = { containerBootstrap, Nlp, LangEn };
