//! Which language a message is written in, as far as the engine needs to know it:
//! whether the knowledge base can read it. A knowledge base written in English cannot
//! answer a question in French or Arabic; guessing from the words it happens to share
//! ("PIN", "Apple Pay") gives a confident answer in a language the customer did not
//! write in, or to another question. Such a message is out of scope, and the bot says
//! which language it answers in.
//!
//! Two kinds of evidence, both read from the normalised, folded words:
//! - the script of the letters (Latin, Arabic, other): a message mostly in another
//!   script than the knowledge base's language is written in is not its language;
//! - between English and French, which share the Latin script, their function words
//!   ("the", "my", "is" against "je", "ma", "est"), each counted once.

use crate::redact::PiiKind;

/// A writing system, as far as telling the knowledge base's language from others needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Script {
    Latin,
    Arabic,
    /// Any other alphabetic script (Cyrillic, Greek, Hebrew, CJK, Devanagari, ...).
    Other,
}

impl Script {
    /// The script of a letter; `None` for anything that is not a letter.
    fn of(c: char) -> Option<Script> {
        match c {
            'a'..='z' | 'A'..='Z' | '\u{C0}'..='\u{24F}' | '\u{1E00}'..='\u{1EFF}' => {
                Some(Script::Latin)
            }
            '\u{600}'..='\u{6FF}'
            | '\u{750}'..='\u{77F}'
            | '\u{8A0}'..='\u{8FF}'
            | '\u{FB50}'..='\u{FDFF}'
            | '\u{FE70}'..='\u{FEFF}' => Some(Script::Arabic),
            c if c.is_alphabetic() => Some(Script::Other),
            _ => None,
        }
    }

    /// The script a language (a BCP 47 primary subtag) is written in, for the languages
    /// where that is unambiguous; `None` when the engine does not know.
    fn of_language(code: &str) -> Option<Script> {
        const ARABIC: &[&str] = &["ar", "fa", "ur", "ps", "ckb"];
        const LATIN: &[&str] = &[
            "en", "fr", "de", "es", "it", "pt", "nl", "ca", "sv", "da", "nb", "nn", "no", "fi",
            "pl", "cs", "sk", "sl", "hr", "ro", "hu", "tr", "id", "ms", "vi", "tl", "sw", "et",
            "lv", "lt", "ga", "cy", "is", "eu", "gl", "sq", "af",
        ];
        const OTHER: &[&str] = &[
            "ru", "uk", "bg", "el", "he", "zh", "ja", "ko", "hi", "bn", "th", "ka", "hy",
        ];
        if ARABIC.contains(&code) {
            Some(Script::Arabic)
        } else if LATIN.contains(&code) {
            Some(Script::Latin)
        } else if OTHER.contains(&code) {
            Some(Script::Other)
        } else {
            None
        }
    }
}

/// The languages told apart by their words, all written in the Latin script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WordLanguage {
    English,
    French,
    /// German, Spanish, Italian or Portuguese, not told apart: neither English nor French.
    Other,
}

impl WordLanguage {
    fn code(self) -> Option<&'static str> {
        match self {
            WordLanguage::English => Some("en"),
            WordLanguage::French => Some("fr"),
            WordLanguage::Other => None,
        }
    }
}

/// English words that mark a message as English: common in any English question and
/// not French words (so not "a", "me", "on", "son"), nor German ("in").
pub(crate) const ENGLISH_WORDS: &str =
    "the is are was were am be been my mine i im ive id ill youll you your youre it its \
     this that these those to of and or for with from at by have has had do does did dont \
     doesnt didnt isnt hasnt havent not can cant could would should will wont what when \
     where why how which who there their they we our us please pls still yet just get got \
     need want if any some all about after before again only another day week today \
     yesterday order refund account money payment transfer arrived received";

/// French words that mark a message as French, folded (no accents, apostrophes dropped:
/// "n'est" is "nest"): function words and the shop's commonest nouns, leaving out those
/// an English message uses too ("ton", "ta", "ai", "pour", "encore", "plus").
pub(crate) const FRENCH_WORDS: &str =
    "je jai tu il elle nous vous ils elles mon ma mes tes votre vos notre nos leur leurs le \
     la les une des du au aux et est nest cest sont etait ete pas ne que qui quoi quand \
     comment pourquoi ou sur dans ce cette ces avez avons suis etes fait faire peux pouvez \
     veux voudrais voulais mais tres deja toujours aussi rien depuis quel quelle jamais \
     merci bonjour bonsoir svp sil plait carte commande remboursement livraison colis \
     paiement compte argent virement recu quil jusqu mois semaine aujourdhui hier combien \
     etre avoir apres en attente frais suivi aide demande";

/// Words of German, Spanish, Italian and Portuguese, folded, that are neither English
/// nor French words (so not "die", "was", "come", "con", "mit", "las").
pub(crate) const OTHER_LATIN_WORDS: &str =
    "ich mein meine meiner ist nicht und der das kann habe ein eine auf noch wurde bitte      jetzt warum wann geld karte bestellung mi mis una por para donde cuando tarjeta pedido      esta hola gracias tengo quiero puedo mio mia che sono grazie ordine meu minha nao uma      onde cartao obrigado voce tenho el lo yo mir mich wurden hat sie vorrei avete quero \
     quanto";

/// What a message's words say about its language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct LanguageEvidence {
    /// Letters in the Latin, Arabic and other scripts.
    letters: [u32; 3],
    /// Distinct marker words of each [`WordLanguage`], in its order.
    markers: [u16; 3],
    /// Words with a letter English does not use ("volée", "está").
    accented: u16,
}

impl LanguageEvidence {
    /// Counts the letters of one normalised word by script. The words the redactor's
    /// masks leave ("[card •••• 1111]" is "card 0000") are not the customer's, so no
    /// evidence of their language.
    pub(crate) fn add_letters(&mut self, word: &str) {
        if PiiKind::ALL.iter().any(|kind| kind.mask_word() == word) {
            return;
        }
        for script in word.chars().filter_map(Script::of) {
            self.letters[script as usize] += 1;
        }
        if word.chars().any(|c| matches!(c, '\u{C0}'..='\u{24F}')) {
            self.accented += 1;
        }
    }

    /// Counts one distinct marker word.
    pub(crate) fn add_marker(&mut self, language: WordLanguage) {
        self.markers[language as usize] += 1;
    }

    /// The script of more than half of the letters, given at least three letters.
    fn script(&self) -> Option<Script> {
        let total: u32 = self.letters.iter().sum();
        if total < 3 {
            return None;
        }
        [Script::Latin, Script::Arabic, Script::Other]
            .into_iter()
            .find(|&script| self.letters[script as usize] * 2 > total)
    }

    /// The language whose marker words outnumber the others' twice over, given two
    /// of them ("the café on rue de la Paix is late" stays English); for French and
    /// the other languages a word with accents counts as one ("carte volée").
    fn words_language(&self) -> Option<WordLanguage> {
        let [en, fr, other] = self.markers;
        let accent = self.accented.min(1);
        if en >= 2 && en > 2 * (fr + other) {
            Some(WordLanguage::English)
        } else if fr >= 1 && fr + accent >= 2 && fr > 2 * en && fr >= other {
            Some(WordLanguage::French)
        } else if other >= 1 && other + accent >= 2 && other > 2 * en && other > fr {
            Some(WordLanguage::Other)
        } else {
            None
        }
    }

    /// The language recognised, as a BCP 47 primary subtag: `ar` for a message mostly
    /// in Arabic letters, `en` or `fr` by their words; `None` when the words do not
    /// say.
    pub(crate) fn language(&self) -> Option<&'static str> {
        match self.script()? {
            Script::Arabic => Some("ar"),
            Script::Latin => self.words_language().and_then(WordLanguage::code),
            Script::Other => None,
        }
    }
}

/// The language a knowledge base is written in, as the engine checks messages against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct KbLanguage {
    script: Option<Script>,
    words: Option<WordLanguage>,
}

/// The language of a BCP 47 tag without its region or script, lowercased: `fr` for
/// `fr-CA`, `pt` for `PT-br`; empty for the empty tag.
pub fn primary_language(tag: &str) -> String {
    tag.split('-')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

impl KbLanguage {
    /// From a BCP 47 tag (`en`, `fr-CA`); a language the engine knows nothing of
    /// (and the empty tag) checks nothing.
    pub(crate) fn of(tag: &str) -> KbLanguage {
        let primary = primary_language(tag);
        let words = match primary.as_str() {
            "en" => Some(WordLanguage::English),
            "fr" => Some(WordLanguage::French),
            _ => None,
        };
        KbLanguage {
            script: Script::of_language(&primary),
            words,
        }
    }

    /// Whether a message is clearly in another language: mostly in another script, or,
    /// for an English or French knowledge base, in another language's words.
    pub(crate) fn cannot_read(&self, message: &LanguageEvidence) -> bool {
        let other_script = self
            .script
            .zip(message.script())
            .is_some_and(|(kb, written)| kb != written);
        let other_words = self
            .words
            .zip(message.words_language())
            .is_some_and(|(kb, written)| kb != written);
        other_script || other_words
    }
}

/// Whether `tag` looks like a BCP 47 language tag: a primary subtag of two or three
/// ASCII letters, then subtags of one to eight letters or digits, joined by `-`.
pub(crate) fn is_language_tag(tag: &str) -> bool {
    let mut subtags = tag.split('-');
    let primary_ok = subtags
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    primary_ok
        && subtags
            .all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(letters_of: &[&str], markers: &[WordLanguage]) -> LanguageEvidence {
        let mut e = LanguageEvidence::default();
        letters_of.iter().for_each(|w| e.add_letters(w));
        markers.iter().for_each(|&m| e.add_marker(m));
        e
    }

    #[test]
    fn a_knowledge_base_reads_its_own_script_and_words() {
        use WordLanguage::{English, French};
        let en = KbLanguage::of("en-GB");
        let fr = KbLanguage::of("fr");
        let ar = KbLanguage::of("ar");
        let french = evidence(&["ma", "carte", "volée"], &[French, French]);
        let english = evidence(&["my", "card", "is", "late"], &[English, English, English]);
        let arabic = evidence(&["بطاقتي", "لم", "تصل"], &[]);
        assert!(en.cannot_read(&french) && !en.cannot_read(&english) && en.cannot_read(&arabic));
        assert!(fr.cannot_read(&english) && !fr.cannot_read(&french));
        assert!(ar.cannot_read(&english) && ar.cannot_read(&french) && !ar.cannot_read(&arabic));
        // A language the engine knows nothing of checks nothing; nor does too little.
        assert!(!KbLanguage::of("xx").cannot_read(&arabic));
        assert!(!en.cannot_read(&evidence(&["ok"], &[])));
    }

    #[test]
    fn the_mask_words_are_the_redactors() {
        for kind in PiiKind::ALL {
            let masked = crate::redact::redact_pii(match kind {
                PiiKind::CardNumber => "4111 1111 1111 1111",
                PiiKind::Iban => "FR76 3000 6000 0112 3456 7890 189",
                PiiKind::Email => "a.b@example.com",
                PiiKind::CardExpiry => "valid thru 12/27",
                PiiKind::CardSecurityCode => "security code 123",
                PiiKind::Phone => "+44 20 7946 0958",
                PiiKind::Pin => "code confidentiel 4821",
                PiiKind::Password => "mot de passe Azerty123",
            });
            let normalized = crate::features::normalize(&masked.text);
            assert!(
                normalized.split(' ').any(|word| word == kind.mask_word()),
                "{kind:?}: {normalized}"
            );
        }
    }

    #[test]
    fn masks_are_no_evidence() {
        // "[card •••• 1111] بطاقتي" normalised: the mask's word is not the customer's.
        let e = evidence(&["card", "0000", "بطاقتي"], &[]);
        assert_eq!(e.language(), Some("ar"));
    }

    #[test]
    fn language_tags() {
        for good in ["en", "fr-CA", "pt-BR", "zh-Hant-TW", "ckb"] {
            assert!(is_language_tag(good), "{good}");
        }
        for bad in ["", "e", "English", "en_GB", "fr-", "en-toolongsubtag"] {
            assert!(!is_language_tag(bad), "{bad}");
        }
        assert_eq!(primary_language("PT-br"), "pt");
        assert_eq!(primary_language(""), "");
    }
}
