//! Calls from the widget to the edge.

use baton_protocol::{ApiError, EscalationAccepted, EscalationRequest};
use gloo::net::http::Request;

/// POSTs an escalation; the error is a short sentence for the customer's screen.
pub async fn send_escalation(
    endpoint: &str,
    request: &EscalationRequest,
) -> Result<EscalationAccepted, String> {
    let url = format!("{endpoint}/v1/escalations");
    let response = Request::post(&url)
        .json(request)
        .map_err(|_| "could not prepare the request".to_owned())?
        .send()
        .await
        .map_err(|_| "network unreachable".to_owned())?;
    if response.ok() {
        response
            .json::<EscalationAccepted>()
            .await
            .map_err(|_| "unexpected answer".to_owned())
    } else {
        let code = response
            .json::<ApiError>()
            .await
            .map(|e| e.error.code)
            .unwrap_or_else(|_| format!("HTTP {}", response.status()));
        Err(code)
    }
}

/// Downloads the site's model file.
pub async fn fetch_model(url: &str) -> Result<Vec<u8>, String> {
    let response = Request::get(url)
        .send()
        .await
        .map_err(|_| "network unreachable".to_owned())?;
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()));
    }
    response
        .binary()
        .await
        .map_err(|_| "could not read the model".to_owned())
}
