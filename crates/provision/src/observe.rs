//! Read-only calls that find what of a stack exists, by its derived names, and whose it is, by tag.

use bodyline_stack::{Stack, State, Target};

use std::any::{Any, TypeId};

use crate::desired::{Context, Desired};
use crate::resources::module::ObservedPart;
use crate::resources::MODULES;
use crate::ProvisionError;
use bodyline_aws::Clients;

/// What exists of a stack, as read from the account: one part per resource module, each in
/// the module's own terms. Only reads produce it; a part observe did not read is "nothing
/// exists" to the plan.
#[derive(Debug, Default)]
pub struct Observed {
    parts: Vec<Box<dyn ObservedPart>>,
}

impl Clone for Observed {
    fn clone(&self) -> Observed {
        Observed {
            parts: self.parts.iter().map(|p| (**p).clone_part()).collect(),
        }
    }
}

impl Observed {
    /// The part kept under the type `type_id`, if observe read it.
    pub(crate) fn part_by_type(&self, type_id: TypeId) -> Option<&dyn Any> {
        self.parts
            .iter()
            .map(|p| (**p).as_any())
            .find(|p| Any::type_id(*p) == type_id)
    }

    /// Keeps a module's part, in place of one of the same type.
    pub(crate) fn insert(&mut self, part: Box<dyn ObservedPart>) {
        let type_id = Any::type_id((*part).as_any());
        self.parts
            .retain(|p| Any::type_id((**p).as_any()) != type_id);
        self.parts.push(part);
    }

    /// A module's part by its type, to change it ("nothing exists" first, if it was not read).
    #[cfg(test)]
    pub(crate) fn part_mut<T>(&mut self) -> &mut T
    where
        T: std::fmt::Debug + Clone + Default + Send + Sync + 'static,
    {
        let at = self.parts.iter().position(|p| (**p).as_any().is::<T>());
        let at = at.unwrap_or_else(|| {
            self.parts.push(Box::new(T::default()));
            self.parts.len() - 1
        });
        (*self.parts[at])
            .as_any_mut()
            .downcast_mut()
            .expect("the part at `at` is a T")
    }
}

/// Resolves the caller: the account and ARN every name and policy derives from.
///
/// On the aws target, missing credentials are reported here, before any other call.
pub async fn identify(stack: &Stack, clients: &Clients) -> Result<Context, ProvisionError> {
    if stack.target == Target::Aws {
        bodyline_aws::resolve_credentials(clients.sdk())
            .await
            .map_err(|message| ProvisionError::NoCredentials { message })?;
    }
    let me = bodyline_aws::caller(&clients.sts)
        .await
        .map_err(|f| ProvisionError::from_failure("GetCallerIdentity", "the caller", f))?;
    Ok(Context {
        account: me.account.unwrap_or_default(),
        caller_arn: me.arn.unwrap_or_default(),
        created: bodyline_stack::created_tag_value(std::time::SystemTime::now()),
    })
}

/// Reads what exists of the stack. Makes only `Describe`/`Get`/`List`/`Head` calls.
///
/// `state` is the stack's state file, if any: it only matters for a bucket that an
/// interrupted setup created and could not tag yet (`BucketObserved::adopt`).
pub async fn observe(
    desired: &Desired,
    clients: &Clients,
    state: Option<&State>,
) -> Result<Observed, ProvisionError> {
    let mut observed = Observed::default();
    for module in MODULES {
        observed.insert(module.observe_any(desired, clients, state).await?);
    }
    Ok(observed)
}
