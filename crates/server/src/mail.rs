//! Account mail wiring: the transport of the settings and the `mail.send` handler the
//! workers run (SPEC §10.1, §10.5).

use std::sync::Arc;

use ainative_adapters_mail::{LogMailer, SmtpMailer};
use ainative_auth::{AccountConfig, AccountMailer, AccountMailerDeps, Delivery, MAIL_JOB_KIND};
use ainative_jobs::{JobError, Registry};
use ainative_ports::{error_chain, Job, Mailer, SystemClock};
use secrecy::ExposeSecret;

use crate::database::Database;
use crate::settings::{AppEnv, Settings};
use crate::startup::StartupError;

/// The mail transport of the settings.
pub fn mailer(settings: &Settings) -> Result<Arc<dyn Mailer>, StartupError> {
    let mail = &settings.mail;
    match (mail.transport.as_str(), &mail.smtp_url) {
        ("smtp", Some(url)) => Ok(Arc::new(
            SmtpMailer::new(url.expose_secret(), &mail.from, mail.smtp_timeout)
                .map_err(|e| StartupError::Mail(e.to_string()))?,
        )),
        _ => {
            // Links hold one-time tokens: only development keeps them in files and logs.
            let development = settings.env == AppEnv::Development;
            let outbox = development.then(|| mail.outbox_dir.clone());
            Ok(Arc::new(
                LogMailer::new(&mail.from, outbox, development)
                    .map_err(|e| StartupError::Mail(e.to_string()))?,
            ))
        }
    }
}

/// The account mail settings.
pub fn account_config(settings: &Settings) -> AccountConfig {
    let mail = &settings.mail;
    AccountConfig {
        product_name: mail.product_name.clone(),
        public_base_url: mail.public_base_url.clone(),
        reset_ttl: mail.reset_ttl,
        verification_ttl: mail.verification_ttl,
        mail_per_address: mail.per_address,
        mail_per_ip: mail.per_ip,
        require_verified_email: mail.require_verified_email,
    }
}

/// What a `mail.send` job runs: issues the token, renders and sends through the transport.
pub fn account_mailer(
    settings: &Settings,
    db: &Database,
) -> Result<Arc<AccountMailer>, StartupError> {
    Ok(Arc::new(AccountMailer::new(
        AccountMailerDeps {
            users: db.users.clone(),
            tokens: db.account_tokens.clone(),
            mailer: mailer(settings)?,
            clock: Arc::new(SystemClock),
        },
        account_config(settings),
    )))
}

/// Registers the `mail.send` handler. A refusal by the mail server (5xx) or a bad payload
/// is permanent (the job is dead at once); anything else is retried with the queue's
/// back-off. The error stored on the job is the transport's, never the mail.
pub fn register_jobs(registry: &mut Registry, mailer: &Arc<AccountMailer>) {
    let mailer = Arc::clone(mailer);
    registry.register_fn(MAIL_JOB_KIND, move |job: Job| {
        let mailer = Arc::clone(&mailer);
        async move {
            match mailer.run_payload(job.payload).await {
                Ok(Delivery::Sent) => {
                    tracing::info!(job.id = %job.id, "account mail sent");
                    Ok(())
                }
                Ok(Delivery::Skipped) => {
                    tracing::debug!(job.id = %job.id, "account mail: nothing to send");
                    Ok(())
                }
                Err(err) if err.is_permanent() => Err(JobError::permanent(error_chain(&err))),
                Err(err) => Err(JobError::msg(error_chain(&err))),
            }
        }
    });
}
