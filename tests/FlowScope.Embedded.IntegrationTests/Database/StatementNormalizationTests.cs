using System.Diagnostics;
using FlowScope.Embedded.Database;
using FlowScope.Embedded.Workers.Internal;

namespace FlowScope.Embedded.IntegrationTests.Database;

/// <summary>The one normalisation N+1 detection compares statements by, and what is read from a statement.</summary>
public sealed class StatementNormalizationTests
{
    [Theory]
    [InlineData("SELECT * FROM \"Comments\" AS \"c\" WHERE \"c\".\"ArticleId\" = @__id_0", "SELECT * FROM \"Comments\" AS \"c\" WHERE \"c\".\"ArticleId\" = ?")]
    [InlineData("SELECT * FROM Comments WHERE ArticleId = 17", "SELECT * FROM Comments WHERE ArticleId = ?")]
    [InlineData("SELECT * FROM Users WHERE Name = 'O''Brien' AND Age > -3.5e2", "SELECT * FROM Users WHERE Name = ? AND Age > ?")]
    [InlineData("SELECT * FROM t WHERE id IN (1, 2, 3, 4)", "SELECT * FROM t WHERE id IN (?)")]
    [InlineData("SELECT * FROM t WHERE id IN ( @p0 , @p1,@p2 )", "SELECT * FROM t WHERE id IN (?)")]
    [InlineData("SELECT *\n  FROM t -- the table\n /* note */ WHERE  a = $1 AND b = :name AND c = ?", "SELECT * FROM t WHERE a = ? AND b = ? AND c = ?")]
    [InlineData("SELECT [t1].[x2] FROM [dbo].[T1] WHERE \"q 1\" = N'abc'", "SELECT [t1].[x2] FROM [dbo].[T1] WHERE \"q 1\" = ?")]
    [InlineData("SELECT a::int FROM t", "SELECT a::int FROM t")]
    public void Literals_parameters_lists_comments_and_whitespace_fold(string statement, string normalized) =>
        Assert.Equal(normalized, SqlStatement.Normalize(statement));

    [Fact]
    public void The_same_query_with_different_values_normalises_alike()
    {
        Assert.Equal(SqlStatement.Normalize("SELECT * FROM t WHERE id = 1 AND x IN (1,2)"), SqlStatement.Normalize("SELECT * FROM t WHERE id = 42 AND x IN (7, 8, 9)"));
        Assert.NotEqual(SqlStatement.Normalize("SELECT * FROM a WHERE id = 1"), SqlStatement.Normalize("SELECT * FROM b WHERE id = 1"));
    }

    [Theory]
    [InlineData("SELECT \"a\".\"Id\", (SELECT COUNT(*) FROM \"Comments\") FROM \"Articles\" AS \"a\"", "SELECT", "Articles")]
    [InlineData("  -- leading comment\n insert into [dbo].[Orders] (Id) VALUES (@p0)", "INSERT", "dbo.Orders")]
    [InlineData("UPDATE \"Stock\" SET \"Count\" = 1", "UPDATE", "Stock")]
    [InlineData("DELETE FROM `carts` WHERE id = 3", "DELETE", "carts")]
    [InlineData("PRAGMA journal_mode = 'wal'", "PRAGMA", null)]
    [InlineData("WITH x AS (SELECT 1) SELECT * FROM x", "WITH", null)]
    public void Operation_and_table_are_read_when_cheap(string statement, string? operation, string? collection) =>
        Assert.Equal((operation, collection), SqlStatement.Describe(statement));

    [Fact]
    public void A_payload_that_cannot_be_read_is_contained_and_counted()
    {
        var before = InstrumentationFailures.Count;
        using var capture = DatabaseDiagnostics.Acquire(captureParameters: false);
        using var listener = new DiagnosticListener("Microsoft.EntityFrameworkCore");
        listener.Write("Microsoft.EntityFrameworkCore.Database.Command.CommandExecuting", new ThrowingPayload());
        Assert.Equal(before + 1, InstrumentationFailures.Count);
    }

    private sealed class ThrowingPayload
    {
        public object Command => throw new InvalidOperationException("A payload shaped differently.");
    }
}
