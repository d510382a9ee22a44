//! Who may call what: each operation's rule over the request's credential, decided once, before
//! the operation reads anything else (the credential was found by the `identify` middleware).

use confirma_server::{ApiError, Operation};

use crate::app::Credential;
use crate::world::{Caller, Failure, SpaceId, missing_token, unknown_token};

/// Who an operation was let through for.
#[derive(Clone, Debug)]
pub enum Who {
    /// A space's partner provisioning token (onboarding and validate only).
    Provisioning(SpaceId),
    /// A client's token.
    Client(Caller),
}

impl Who {
    /// The space the request reaches.
    pub fn space(&self) -> SpaceId {
        match self {
            Self::Provisioning(space) => *space,
            Self::Client(caller) => caller.space,
        }
    }

    /// The calling client (every operation but onboarding and validate admits nothing else).
    pub fn client(&self) -> Result<&Caller, ApiError> {
        match self {
            Self::Client(caller) => Ok(caller),
            Self::Provisioning(_) => Err(provisioning_refused()),
        }
    }
}

fn provisioning_refused() -> ApiError {
    ApiError::forbidden(
        "The partner provisioning token works only for onboarding (POST /api/v1/partner/client).",
    )
}

/// Whether the credential may call `operation`: onboarding takes the provisioning token and
/// nothing else; validate takes it or a live client token; renew takes any client token, expired
/// or not (renewal is the one thing an expired token may still do); every other operation takes
/// a live client token.
pub fn admit(
    operation: Operation,
    credential: Result<Credential, Failure>,
) -> Result<Who, ApiError> {
    let credential = credential?;
    match (operation, credential) {
        (Operation::CreateClient, Credential::Provisioning(space)) => Ok(Who::Provisioning(space)),
        (Operation::CreateClient, Credential::Client(..)) => Err(ApiError::forbidden(
            "Onboarding needs the partner provisioning token, not a client token.",
        )),
        (Operation::CreateClient, Credential::Missing | Credential::Unknown) => Err(
            ApiError::unauthorized("Send the partner provisioning token in the X-Api-Key header."),
        ),
        (Operation::ValidateToken, Credential::Provisioning(space)) => Ok(Who::Provisioning(space)),
        (Operation::RenewToken, Credential::Provisioning(_)) => Err(ApiError::forbidden(
            "The partner provisioning token is not renewed through the API.",
        )),
        (Operation::RenewToken, Credential::Client(caller)) => Ok(Who::Client(caller)),
        (_, Credential::Provisioning(_)) => Err(provisioning_refused()),
        (_, Credential::Missing) => Err(Failure::from(missing_token()).into()),
        (_, Credential::Unknown) => Err(Failure::from(unknown_token()).into()),
        (_, Credential::Client(caller)) if caller.expired => Err(ApiError::token_expired()),
        (_, Credential::Client(caller)) => Ok(Who::Client(caller)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn client(expired: bool) -> Credential {
        Credential::Client(Caller {
            space: SpaceId::DEFAULT,
            client_id: 7,
            expires_at: None,
            expired,
            checked_at: Utc::now(),
        })
    }

    /// Each operation's rule over every kind of credential, as (status, or 0 when admitted).
    #[test]
    fn every_operation_admits_the_credentials_its_rule_names() {
        let kinds = [
            Credential::Missing,
            Credential::Unknown,
            Credential::Provisioning(SpaceId::DEFAULT),
            client(false),
            client(true),
        ];
        let statuses = |operation| -> Vec<u16> {
            kinds
                .iter()
                .map(|c| match admit(operation, Ok(c.clone())) {
                    Ok(_) => 0,
                    Err(e) => e.status,
                })
                .collect()
        };
        // missing, unknown, provisioning, live client, expired client
        assert_eq!(statuses(Operation::CreateClient), [401, 401, 0, 403, 403]);
        assert_eq!(statuses(Operation::ValidateToken), [401, 401, 0, 0, 401]);
        assert_eq!(statuses(Operation::RenewToken), [401, 401, 403, 0, 0]);
        for operation in [Operation::CreateInvoice, Operation::GetPayments] {
            assert_eq!(statuses(operation), [401, 401, 403, 0, 401]);
        }
        let expired = admit(Operation::GetPayments, Ok(client(true))).unwrap_err();
        assert_eq!(expired.body.code.to_string(), "TOKEN_EXPIRED");
        let down = admit(Operation::GetPayments, Err(Failure::Internal)).unwrap_err();
        assert_eq!(down.status, 500, "a storage failure is no refusal");
    }
}
