using System.Data.Common;

namespace FlowScope.Embedded.Database;

/// <summary>Wraps a connection so FlowScope records its commands.</summary>
public static class FlowScopeDbConnectionExtensions
{
    /// <summary>
    /// Returns a <see cref="FlowScopeDbConnection"/> around <paramref name="connection"/> (or the connection itself if it
    /// is one already): every command run through it is recorded as a <c>database</c> span.
    /// </summary>
    /// <param name="connection">The provider's connection.</param>
    /// <returns>The wrapping connection; disposing it disposes <paramref name="connection"/>.</returns>
    public static DbConnection WithFlowScope(this DbConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return connection as FlowScopeDbConnection ?? new FlowScopeDbConnection(connection);
    }
}
