//! What the widget says, per language.

use baton_protocol::EscalationReason;
use baton_triage::{PiiKind, SmallTalk};

/// Every string the widget shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Strings {
    /// The BCP 47 tag of this language.
    pub lang: &'static str,
    /// Text direction: `ltr` or `rtl`.
    pub dir: &'static str,
    /// The launcher's accessible name.
    pub launcher: &'static str,
    /// The launcher's accessible name with messages not seen yet, `{count}` replaced.
    pub launcher_unread: &'static str,
    /// The panel's accessible name and title.
    pub title: &'static str,
    /// Subtitle under the title.
    pub subtitle: &'static str,
    /// The always-visible button to reach a person.
    pub talk_to_person: &'static str,
    /// The person button while the customer waits for a person.
    pub person_on_the_way: &'static str,
    /// The person button while a person has the conversation.
    pub with_a_person: &'static str,
    /// Placeholder of the message box while a person has the conversation.
    pub placeholder_person: &'static str,
    /// Button that forgets the conversation.
    pub end_chat: &'static str,
    /// Close button label.
    pub close: &'static str,
    /// Placeholder of the message box.
    pub placeholder: &'static str,
    /// Label of the message box.
    pub message_label: &'static str,
    /// Send button.
    pub send: &'static str,
    /// Greeting when no site greeting is set.
    pub greeting: &'static str,
    /// Shown while the model loads.
    pub loading: &'static str,
    /// Shown when the bot cannot answer.
    pub dont_know: &'static str,
    /// Why a person was offered for a message in another language than the knowledge
    /// base's, `{language}` replaced by its name (see `language_names`).
    pub only_answers_in: &'static str,
    /// The same, for a knowledge-base language without a name here.
    pub only_answers_in_its_language: &'static str,
    /// Under the greeting when the knowledge base is in another language than the
    /// interface, `{language}` replaced by its name.
    pub answers_in: &'static str,
    /// Names of the languages a knowledge base may be written in, in the order of
    /// [`KB_LANGUAGES`].
    pub language_names: [&'static str; 8],
    /// The bot's replies to small talk, in the order greeting, thanks, goodbye,
    /// "what can you do", "ok".
    pub small_talk: [&'static str; 5],
    /// The question after an answer.
    pub did_this_help: &'static str,
    /// Before the alternatives offered beside an unsure answer.
    pub did_you_mean: &'static str,
    /// Yes.
    pub yes: &'static str,
    /// No, talk to a person.
    pub no_person: &'static str,
    /// Thanks after "yes".
    pub glad: &'static str,
    /// Lead-in of the offer of a person.
    pub offer_person: &'static str,
    /// Heading of the consent preview.
    pub consent_title: &'static str,
    /// Explanation of the consent preview.
    pub consent_body: &'static str,
    /// Consent button.
    pub consent_send: &'static str,
    /// Decline button.
    pub consent_cancel: &'static str,
    /// Beside the consent question, when nobody from the team is online.
    pub consent_nobody_online: &'static str,
    /// While sending.
    pub sending: &'static str,
    /// When sending failed and will be tried again.
    pub send_failed: &'static str,
    /// Retry button.
    pub retry: &'static str,
    /// Queue position, `{position}` replaced.
    pub queue_position: &'static str,
    /// Estimated wait, `{minutes}` replaced.
    pub queue_wait: &'static str,
    /// Instead of a wait, when nobody from the team is online.
    pub queue_nobody_online: &'static str,
    /// Label of the "Suggested questions" list.
    pub suggestions: &'static str,
    /// Caption of masked personal data.
    pub masked_note: &'static str,
    /// A masked card number, `{last4}` replaced.
    pub mask_card: &'static str,
    /// A masked IBAN.
    pub mask_iban: &'static str,
    /// A masked email address.
    pub mask_email: &'static str,
    /// A masked phone number.
    pub mask_phone: &'static str,
    /// A masked card expiry date.
    pub mask_expiry: &'static str,
    /// A masked PIN.
    pub mask_pin: &'static str,
    /// A masked password.
    pub mask_password: &'static str,
    /// A masked card security code.
    pub mask_cvv: &'static str,
    /// A person joined, `{name}` replaced.
    pub agent_joined: &'static str,
    /// The person is writing a reply, `{name}` replaced.
    pub agent_typing: &'static str,
    /// The person left and the customer waits again, `{name}` replaced.
    pub agent_left: &'static str,
    /// One person passed the conversation to another, `{from}` and `{to}` replaced.
    pub agent_passed_on: &'static str,
    /// The person closed the conversation.
    pub resolved: &'static str,
    /// Header line while a person has the conversation, `{name}` replaced.
    pub with_agent: &'static str,
    /// Under a message still in the outbox.
    pub not_sent_yet: &'static str,
    /// While the live channel is down.
    pub reconnecting: &'static str,
    /// Heading of the rating question.
    pub rate_title: &'static str,
    /// Accessible label of one rating, `{n}` replaced.
    pub rate_value: &'static str,
    /// Label of the optional comment.
    pub rate_comment: &'static str,
    /// Button that sends the rating.
    pub rate_send: &'static str,
    /// Thanks after rating.
    pub rate_thanks: &'static str,
    /// Button that starts over.
    pub new_chat: &'static str,
    /// Before the customer's own bubbles, for screen readers.
    pub you_said: &'static str,
    /// Before the bot's bubbles, for screen readers.
    pub bot_said: &'static str,
    /// Under a message that never reached the person: the conversation had ended.
    pub not_delivered: &'static str,
    /// Under a message written for a hand-off the customer then declined.
    pub not_sent_no_person: &'static str,
    /// Under a message the edge refused for another reason.
    pub not_delivered_refused: &'static str,
    /// The customer ended the conversation with the person.
    pub you_ended: &'static str,
    /// The divider above a new chat after one ended.
    pub new_conversation: &'static str,
    /// "End chat?" while a person has (or waits for) the conversation.
    pub end_question_person: &'static str,
    /// "End chat?" otherwise.
    pub end_question: &'static str,
    /// Confirms "End chat".
    pub end_confirm: &'static str,
    /// Takes "End chat" back.
    pub end_keep: &'static str,
    /// Above the message box when it is full.
    pub input_full: &'static str,
    /// When the hand-off could not go because the browser is offline.
    pub send_offline: &'static str,
    /// When the hand-off was refused for too many requests.
    pub send_busy: &'static str,
    /// When the edge refused the hand-off for good.
    pub send_refused: &'static str,
    /// In the consent preview before the customer wrote anything.
    pub consent_empty: &'static str,
    /// Announced while the panel is closed, `{count}` replaced.
    pub news_while_closed: &'static str,
    /// Why a person was offered, in the order explicit request, frustration,
    /// sensitive topic, out of scope, repeated failure.
    pub reasons: [&'static str; 5],
}

impl Strings {
    /// The plain words a customer reads for a reason a person was offered.
    pub fn reason(&self, reason: EscalationReason) -> &'static str {
        let index = match reason {
            EscalationReason::ExplicitRequest => 0,
            EscalationReason::Frustration => 1,
            EscalationReason::SensitiveIntent => 2,
            EscalationReason::OutOfScope => 3,
            EscalationReason::RepeatedFailure => 4,
        };
        self.reasons[index]
    }

    /// Why a person was offered for a message the knowledge base, written in
    /// `language` (a BCP 47 tag), cannot read.
    pub fn only_answers_in(&self, language: &str) -> String {
        match self.language_name(language) {
            Some(name) => self.only_answers_in.replace("{language}", name),
            None => self.only_answers_in_its_language.to_owned(),
        }
    }

    /// The line under the greeting when the knowledge base is in `language`, another
    /// than the interface's; none for a language without a name here.
    pub fn answers_in(&self, language: &str) -> Option<String> {
        let name = self.language_name(language)?;
        Some(self.answers_in.replace("{language}", name))
    }

    /// A knowledge-base language's name (`language` a BCP 47 tag), if it has one here.
    fn language_name(&self, language: &str) -> Option<&'static str> {
        let primary = baton_triage::primary_language(language);
        let index = KB_LANGUAGES.iter().position(|&tag| tag == primary)?;
        Some(self.language_names[index])
    }

    /// What a mask hides, in words ("card ending 4242").
    pub fn mask(&self, kind: PiiKind, last_four: &str) -> String {
        match kind {
            PiiKind::CardNumber => self.mask_card.replace("{last4}", last_four),
            PiiKind::Iban => self.mask_iban.to_owned(),
            PiiKind::Email => self.mask_email.to_owned(),
            PiiKind::Phone => self.mask_phone.to_owned(),
            PiiKind::CardExpiry => self.mask_expiry.to_owned(),
            PiiKind::CardSecurityCode => self.mask_cvv.to_owned(),
            PiiKind::Pin => self.mask_pin.to_owned(),
            PiiKind::Password => self.mask_password.to_owned(),
        }
    }

    /// The bot's reply to small talk of this kind.
    pub fn small_talk_reply(&self, kind: SmallTalk) -> &'static str {
        let index = match kind {
            SmallTalk::Greeting => 0,
            SmallTalk::Thanks => 1,
            SmallTalk::Goodbye => 2,
            SmallTalk::Capabilities => 3,
            SmallTalk::Acknowledgement => 4,
        };
        self.small_talk[index]
    }
}

/// The knowledge-base languages the interface can name, as BCP 47 primary subtags.
pub const KB_LANGUAGES: [&str; 8] = ["en", "fr", "ar", "de", "es", "it", "pt", "nl"];

/// English.
pub const EN: Strings = Strings {
    lang: "en",
    dir: "ltr",
    launcher: "Chat with us",
    launcher_unread: "Chat with us ({count} unread)",
    title: "Help",
    subtitle: "Instant answers · a person is always one tap away",
    talk_to_person: "Talk to a person",
    person_on_the_way: "A person is on the way",
    with_a_person: "You're with a person",
    placeholder_person: "Write a message…",
    end_chat: "End chat",
    close: "Close chat",
    placeholder: "Ask a question…",
    message_label: "Your message",
    send: "Send",
    greeting: "Hi! Ask me anything about your order, card or payments. If you'd rather talk to a person, choose \"Talk to a person\" at any time.",
    loading: "Getting ready…",
    dont_know: "I'm not sure I can answer that well, and I'd rather not guess. A person can help.",
    only_answers_in: "I can only answer questions in {language} by myself, so I won't guess.",
    only_answers_in_its_language: "I can't answer questions in this language by myself, so I won't guess.",
    answers_in: "I answer in {language} by myself; for anything else, a person can help.",
    language_names: ["English", "French", "Arabic", "German", "Spanish", "Italian", "Portuguese", "Dutch"],
    // The engine's own words, which the agent's transcript records.
    small_talk: [
        SmallTalk::Greeting.reply(),
        SmallTalk::Thanks.reply(),
        SmallTalk::Goodbye.reply(),
        SmallTalk::Capabilities.reply(),
        SmallTalk::Acknowledgement.reply(),
    ],
    did_this_help: "Did this answer your question?",
    did_you_mean: "Or did you mean:",
    yes: "Yes",
    no_person: "No, talk to a person",
    glad: "Glad that helped.",
    offer_person: "A person can help with this:",
    consent_title: "Send this to a person?",
    consent_body: "This is what they will see, so you don't have to repeat yourself. Personal details are masked.",
    consent_send: "Send to a person",
    consent_cancel: "Not now",
    consent_nobody_online: "Nobody from the team is online right now: the first person back will answer, here.",
    sending: "Connecting you with a person…",
    send_failed: "We couldn't reach our team just now. Your request is kept here, and we'll keep trying.",
    retry: "Try again",
    queue_position: "You're number {position} in line.",
    queue_wait: "Estimated wait: about {minutes} min. You can keep this page open or come back later.",
    queue_nobody_online: "Nobody from the team is online right now. Your place is kept: the first person back will answer here, so you can come back to this page later.",
    suggestions: "Common questions",
    masked_note: "masked",
    mask_card: "card ending {last4}",
    mask_iban: "bank account",
    mask_email: "email address",
    mask_phone: "phone number",
    mask_expiry: "expiry date",
    mask_pin: "PIN",
    mask_password: "password",
    mask_cvv: "security code",
    agent_joined: "{name} joined the conversation.",
    agent_typing: "{name} is typing…",
    agent_passed_on: "{from} passed you to {to}, who can see everything so far.",
    agent_left: "{name} had to step away. You're back in the queue, and the next person will see everything so far.",
    resolved: "The conversation was closed.",
    with_agent: "You're chatting with {name}.",
    not_sent_yet: "Not sent yet; it will go as soon as the connection is back.",
    reconnecting: "Connection lost. Reconnecting…",
    rate_title: "How was your conversation?",
    rate_value: "{n} out of 5",
    rate_comment: "Anything you'd like to add? (optional)",
    rate_send: "Send rating",
    rate_thanks: "Thank you. Your rating helps us improve.",
    new_chat: "Start a new chat",
    you_said: "You:",
    bot_said: "Assistant:",
    not_delivered: "Not delivered: the conversation had ended.",
    not_sent_no_person: "Not sent: you chose not to contact our team.",
    not_delivered_refused: "Not delivered: something went wrong on our side.",
    you_ended: "You ended the chat.",
    new_conversation: "New conversation",
    end_question_person: "End the conversation with our team? You can't undo this.",
    end_question: "End this chat? It will be cleared from this browser.",
    end_confirm: "End chat",
    end_keep: "Keep chatting",
    input_full: "That is as long as one message can be: send this part, then go on in the next.",
    send_offline: "You seem to be offline. Your request is kept here and goes as soon as you're back online.",
    send_busy: "Too many requests from this browser just now. Please try again in a minute.",
    send_refused: "This chat can't reach our team from this page. Please contact us another way.",
    consent_empty: "Nothing written yet: tell us briefly what you need below, and it goes with your request.",
    news_while_closed: "New messages in the chat: {count}",
    reasons: [
        "You asked for a person.",
        "This seems frustrating, and a person can sort it out.",
        "This is something a person should handle.",
        "I'm not sure I can answer that well.",
        "My answers haven't helped so far.",
    ],
};

/// French. Its typography: a narrow no-break space (U+202F) before `?`, `!` and `;`, a
/// no-break space (U+00A0) before `:` and inside `« »`, so that none starts a line.
pub const FR: Strings = Strings {
    lang: "fr",
    dir: "ltr",
    launcher: "Discuter avec nous",
    launcher_unread: "Discuter avec nous (non lus : {count})",
    title: "Aide",
    subtitle: "Réponses immédiates · une personne toujours à portée de main",
    talk_to_person: "Parler à une personne",
    person_on_the_way: "Une personne arrive",
    with_a_person: "Vous êtes avec une personne",
    placeholder_person: "Écrivez un message…",
    end_chat: "Terminer",
    close: "Fermer le chat",
    placeholder: "Posez votre question…",
    message_label: "Votre message",
    send: "Envoyer",
    greeting: "Bonjour ! Posez-moi vos questions sur votre commande, votre carte ou vos paiements. Pour parler à une personne, choisissez « Parler à une personne » à tout moment.",
    loading: "Préparation…",
    dont_know: "Je ne suis pas sûr de bien répondre à cela et je préfère ne pas deviner. Une personne peut vous aider.",
    only_answers_in: "Je ne sais répondre seul qu'en {language}, et je préfère ne pas deviner.",
    only_answers_in_its_language: "Je ne sais pas répondre seul dans cette langue, et je préfère ne pas deviner.",
    answers_in: "Seul, je réponds en {language} ; pour le reste, une personne peut vous aider.",
    language_names: ["anglais", "français", "arabe", "allemand", "espagnol", "italien", "portugais", "néerlandais"],
    small_talk: [
        "Bonjour ! Comment puis-je vous aider ?",
        "Je vous en prie ! Puis-je vous aider pour autre chose ?",
        "Merci pour cet échange. Au revoir !",
        "Je réponds tout de suite aux questions courantes, et une personne est à portée de main pour tout le reste. Que voulez-vous savoir ?",
        "Puis-je vous aider pour autre chose ?",
    ],
    did_this_help: "Cette réponse vous a-t-elle aidé ?",
    did_you_mean: "Ou vouliez-vous dire :",
    yes: "Oui",
    no_person: "Non, parler à une personne",
    glad: "Ravi d'avoir pu aider.",
    offer_person: "Une personne peut vous aider :",
    consent_title: "Envoyer ceci à une personne ?",
    consent_body: "Voici ce qu'elle verra, pour que vous n'ayez pas à vous répéter. Les données personnelles sont masquées.",
    consent_send: "Envoyer à une personne",
    consent_cancel: "Pas maintenant",
    consent_nobody_online: "Personne de l'équipe n'est en ligne pour le moment : la première personne de retour vous répondra, ici.",
    sending: "Mise en relation avec une personne…",
    send_failed: "Impossible de joindre notre équipe pour l'instant. Votre demande est conservée ici et nous réessayons.",
    retry: "Réessayer",
    queue_position: "Vous êtes numéro {position} dans la file.",
    queue_wait: "Attente estimée : environ {minutes} min. Vous pouvez garder cette page ouverte ou revenir plus tard.",
    queue_nobody_online: "Personne de l'équipe n'est en ligne pour le moment. Votre place est gardée : la première personne de retour vous répondra ici, vous pouvez donc revenir sur cette page plus tard.",
    suggestions: "Questions fréquentes",
    masked_note: "masqué",
    mask_card: "carte finissant par {last4}",
    mask_iban: "compte bancaire",
    mask_email: "adresse e-mail",
    mask_phone: "numéro de téléphone",
    mask_expiry: "date d'expiration",
    mask_pin: "code PIN",
    mask_password: "mot de passe",
    mask_cvv: "code de sécurité",
    agent_joined: "{name} a rejoint la conversation.",
    agent_typing: "{name} est en train d'écrire…",
    agent_passed_on: "{from} vous a confié à {to}, qui voit tout l'échange.",
    agent_left: "{name} a dû s'absenter. Vous êtes de nouveau dans la file, et la prochaine personne verra tout l'échange.",
    resolved: "La conversation est terminée.",
    with_agent: "Vous discutez avec {name}.",
    not_sent_yet: "Pas encore envoyé ; le message partira dès le retour de la connexion.",
    reconnecting: "Connexion perdue. Reconnexion…",
    rate_title: "Comment s'est passée la conversation ?",
    rate_value: "{n} sur 5",
    rate_comment: "Quelque chose à ajouter ? (facultatif)",
    rate_send: "Envoyer la note",
    rate_thanks: "Merci. Votre note nous aide à nous améliorer.",
    new_chat: "Nouvelle conversation",
    you_said: "Vous :",
    bot_said: "Assistant :",
    not_delivered: "Non remis : la conversation était terminée.",
    not_sent_no_person: "Non envoyé : vous avez choisi de ne pas contacter notre équipe.",
    not_delivered_refused: "Non remis : un problème est survenu de notre côté.",
    you_ended: "Vous avez terminé la conversation.",
    new_conversation: "Nouvelle conversation",
    end_question_person: "Terminer la conversation avec notre équipe ? Ce n'est pas réversible.",
    end_question: "Terminer cette conversation ? Elle sera effacée de ce navigateur.",
    end_confirm: "Terminer",
    end_keep: "Continuer",
    input_full: "Un message ne peut pas être plus long : envoyez cette partie, puis continuez dans le suivant.",
    send_offline: "Vous semblez hors ligne. Votre demande est conservée ici et partira dès le retour de la connexion.",
    send_busy: "Trop de demandes depuis ce navigateur pour l'instant. Réessayez dans une minute.",
    send_refused: "Ce chat ne peut pas joindre notre équipe depuis cette page. Contactez-nous par un autre moyen.",
    consent_empty: "Rien d'écrit pour l'instant : dites-nous en quelques mots ce dont vous avez besoin ci-dessous, cela partira avec votre demande.",
    news_while_closed: "Nouveaux messages dans le chat : {count}",
    reasons: [
        "Vous avez demandé une personne.",
        "Cela semble frustrant, et une personne peut régler le problème.",
        "C'est un sujet qu'une personne doit traiter.",
        "Je ne suis pas sûr de bien répondre à cela.",
        "Mes réponses ne vous ont pas aidé jusqu'ici.",
    ],
};

/// Arabic (right to left).
pub const AR: Strings = Strings {
    lang: "ar",
    dir: "rtl",
    launcher: "تحدث معنا",
    launcher_unread: "تحدث معنا (رسائل غير مقروءة: {count})",
    title: "المساعدة",
    subtitle: "إجابات فورية · وموظف متاح دائمًا بلمسة واحدة",
    talk_to_person: "التحدث إلى موظف",
    person_on_the_way: "موظف في الطريق إليك",
    with_a_person: "أنت تتحدث مع موظف",
    placeholder_person: "اكتب رسالة…",
    end_chat: "إنهاء المحادثة",
    close: "إغلاق المحادثة",
    placeholder: "اكتب سؤالك…",
    message_label: "رسالتك",
    send: "إرسال",
    greeting: "مرحبًا! اسألني عن طلبك أو بطاقتك أو مدفوعاتك. وإن أردت التحدث إلى موظف فاضغط «التحدث إلى موظف» في أي وقت.",
    loading: "جارٍ التحضير…",
    dont_know: "لست متأكدًا من أنني أستطيع الإجابة عن هذا جيدًا، ولا أريد التخمين. يمكن لموظف مساعدتك.",
    only_answers_in: "لا أستطيع الإجابة وحدي إلا باللغة {language}، ولا أريد التخمين.",
    only_answers_in_its_language: "لا أستطيع الإجابة وحدي بهذه اللغة، ولا أريد التخمين.",
    answers_in: "أجيب وحدي باللغة {language}، ولأي شيء آخر يمكن لموظف مساعدتك.",
    language_names: ["الإنجليزية", "الفرنسية", "العربية", "الألمانية", "الإسبانية", "الإيطالية", "البرتغالية", "الهولندية"],
    small_talk: [
        "مرحبًا! كيف يمكنني مساعدتك؟",
        "على الرحب والسعة! هل هناك شيء آخر يمكنني مساعدتك به؟",
        "شكرًا على تواصلك. مع السلامة!",
        "أجيب فورًا عن الأسئلة الشائعة، وموظف متاح بلمسة واحدة لأي شيء آخر. ماذا تريد أن تعرف؟",
        "هل هناك شيء آخر يمكنني مساعدتك به؟",
    ],
    did_this_help: "هل أجابت هذه الرسالة عن سؤالك؟",
    did_you_mean: "أم تقصد:",
    yes: "نعم",
    no_person: "لا، أريد التحدث إلى موظف",
    glad: "يسعدنا أن ذلك ساعدك.",
    offer_person: "يمكن لموظف مساعدتك في هذا:",
    consent_title: "هل نرسل هذا إلى موظف؟",
    consent_body: "هذا ما سيراه الموظف حتى لا تضطر إلى التكرار. البيانات الشخصية مخفية.",
    consent_send: "أرسل إلى موظف",
    consent_cancel: "ليس الآن",
    consent_nobody_online: "لا أحد من الفريق متصل الآن: أول من يعود سيرد عليك هنا.",
    sending: "جارٍ توصيلك بموظف…",
    send_failed: "تعذّر الوصول إلى فريقنا الآن. طلبك محفوظ هنا وسنواصل المحاولة.",
    retry: "أعد المحاولة",
    queue_position: "ترتيبك في قائمة الانتظار: {position}.",
    queue_wait: "مدة الانتظار المتوقعة بالدقائق: {minutes} تقريبًا. يمكنك إبقاء هذه الصفحة مفتوحة أو العودة لاحقًا.",
    queue_nobody_online: "لا أحد من الفريق متصل الآن. مكانك محفوظ، وأول من يعود سيرد عليك هنا، لذا يمكنك العودة إلى هذه الصفحة لاحقًا.",
    suggestions: "أسئلة شائعة",
    masked_note: "مخفي",
    mask_card: "بطاقة تنتهي بـ {last4}",
    mask_iban: "حساب مصرفي",
    mask_email: "بريد إلكتروني",
    mask_phone: "رقم هاتف",
    mask_expiry: "تاريخ الانتهاء",
    mask_pin: "الرقم السري",
    mask_password: "كلمة المرور",
    mask_cvv: "رمز الأمان",
    // Worded so that no verb agrees with the agent: a name says nothing of grammatical
    // gender.
    agent_joined: "{name} معك الآن في المحادثة.",
    agent_typing: "{name}: جارٍ الكتابة…",
    agent_passed_on: "تم تحويل محادثتك من {from} إلى {to}، مع كل ما سبق فيها.",
    agent_left: "انتهت مشاركة {name} في المحادثة. عدت إلى قائمة الانتظار، وسيرى الموظف التالي المحادثة كاملة.",
    resolved: "أُغلقت المحادثة.",
    with_agent: "أنت تتحدث مع {name}.",
    not_sent_yet: "لم تُرسل بعد؛ ستُرسل فور عودة الاتصال.",
    reconnecting: "انقطع الاتصال. جارٍ إعادة الاتصال…",
    rate_title: "كيف كانت محادثتك؟",
    rate_value: "{n} من 5",
    rate_comment: "هل تود إضافة شيء؟ (اختياري)",
    rate_send: "أرسل التقييم",
    rate_thanks: "شكرًا لك. تقييمك يساعدنا على التحسن.",
    new_chat: "ابدأ محادثة جديدة",
    you_said: "أنت:",
    bot_said: "المساعد:",
    not_delivered: "لم تُسلَّم: كانت المحادثة قد انتهت.",
    not_sent_no_person: "لم تُرسل: اخترت ألا تتواصل مع فريقنا.",
    not_delivered_refused: "لم تُسلَّم: حدث خطأ من جهتنا.",
    you_ended: "أنهيت المحادثة.",
    new_conversation: "محادثة جديدة",
    end_question_person: "هل تريد إنهاء المحادثة مع فريقنا؟ لا يمكن التراجع عن ذلك.",
    end_question: "هل تريد إنهاء هذه المحادثة؟ ستُحذف من هذا المتصفح.",
    end_confirm: "إنهاء",
    end_keep: "متابعة المحادثة",
    input_full: "هذا أقصى طول للرسالة: أرسل هذا الجزء ثم تابع في الرسالة التالية.",
    send_offline: "يبدو أنك غير متصل بالإنترنت. طلبك محفوظ هنا وسيُرسل فور عودة الاتصال.",
    send_busy: "طلبات كثيرة من هذا المتصفح الآن. يرجى المحاولة بعد دقيقة.",
    send_refused: "لا يمكن لهذه المحادثة الوصول إلى فريقنا من هذه الصفحة. يرجى التواصل معنا بطريقة أخرى.",
    consent_empty: "لم تكتب شيئًا بعد: اكتب أدناه باختصار ما تحتاج إليه وسيُرسل مع طلبك.",
    news_while_closed: "رسائل جديدة في المحادثة: {count}",
    reasons: [
        "طلبت التحدث إلى موظف.",
        "يبدو أن هذا مزعج، ويمكن لموظف حل المشكلة.",
        "هذا أمر ينبغي أن يتولاه موظف.",
        "لست متأكدًا من أنني أستطيع الإجابة عن هذا جيدًا.",
        "لم تساعدك إجاباتي حتى الآن.",
    ],
};

/// The strings for a BCP 47 language tag such as `fr-CA`; English when unknown.
pub fn strings_for(language: &str) -> &'static Strings {
    let primary = language
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match primary.as_str() {
        "fr" => &FR,
        "ar" => &AR,
        _ => &EN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_chosen_by_primary_subtag() {
        assert_eq!(strings_for("fr-CA").lang, "fr");
        assert_eq!(strings_for("AR").dir, "rtl");
        assert_eq!(strings_for("de-DE").lang, "en");
        assert_eq!(strings_for("").lang, "en");
    }

    #[test]
    fn every_language_explains_every_reason() {
        for strings in [&EN, &FR, &AR] {
            for reason in EscalationReason::ALL {
                assert!(!strings.reason(reason).is_empty());
            }
            assert!(strings.queue_position.contains("{position}"));
            assert!(strings.queue_wait.contains("{minutes}"));
            for text in [strings.agent_joined, strings.agent_left, strings.with_agent] {
                assert!(text.contains("{name}"), "{}: {text}", strings.lang);
            }
            assert!(strings.rate_value.contains("{n}"));
            assert!(strings.agent_passed_on.contains("{from}"));
            assert!(strings.agent_passed_on.contains("{to}"));
            assert!(strings.news_while_closed.contains("{count}"));
            assert!(strings.mask_card.contains("{last4}"));
            for kind in [
                SmallTalk::Greeting,
                SmallTalk::Thanks,
                SmallTalk::Goodbye,
                SmallTalk::Capabilities,
                SmallTalk::Acknowledgement,
            ] {
                assert!(!strings.small_talk_reply(kind).is_empty());
            }
        }
    }
}
