import GraphQL

/// Refuses a document that defines the same operation or fragment more than once, before GraphQL's
/// validation sees it.
///
/// GraphQL 4.3.0 hashes `OperationDefinition` and `FragmentDefinition` by identity but compares them by
/// value, and its validation context keys dictionaries by them. Two definitions that are equal by value
/// (the same anonymous operation written twice, say) break `Hashable`'s contract, and enough of them make
/// the standard library trap with "Duplicate keys ... in a Dictionary": one request of 300 copies of
/// `{ health }` killed `credits serve`. The rules enforced here are the specification's own
/// (Operation Name Uniqueness, Lone Anonymous Operation, Fragment Name Uniqueness), so a valid document
/// never reaches the check's refusal, and once they hold no two definitions are equal by value.
enum GraphQLDuplicateDefinitions {
    /// The GraphQL errors for `document`'s repeated definitions, with GraphQL's wording; empty if none.
    static func errors(in document: Document) -> [GraphQLError] {
        var errors: [GraphQLError] = []
        var operationNames = Set<String>()
        var fragmentNames = Set<String>()
        var operationCount = 0
        var anonymousOperations: [OperationDefinition] = []
        for definition in document.definitions {
            if let operation = definition as? OperationDefinition {
                operationCount += 1
                guard let name = operation.name else {
                    anonymousOperations.append(operation)
                    continue
                }
                if !operationNames.insert(name.value).inserted {
                    errors.append(GraphQLError(
                        message: "There can be only one operation named \"\(name.value)\".", nodes: [name]))
                }
            } else if let fragment = definition as? FragmentDefinition {
                if !fragmentNames.insert(fragment.name.value).inserted {
                    errors.append(GraphQLError(
                        message: "There can be only one fragment named \"\(fragment.name.value)\".",
                        nodes: [fragment.name]))
                }
            }
        }
        if operationCount > 1 {
            // Reported once, not once per copy: a document of 300 copies gets one error, not 300.
            if let first = anonymousOperations.first {
                errors.insert(
                    GraphQLError(
                        message: "This anonymous operation must be the only defined operation.", nodes: [first]),
                    at: 0)
            }
        }
        return errors
    }
}
