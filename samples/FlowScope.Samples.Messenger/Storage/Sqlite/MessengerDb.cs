using Microsoft.EntityFrameworkCore;

namespace FlowScope.Samples.Messenger.Storage.Sqlite;

/// <summary>The messenger's tables: users, rooms, memberships, messages and delivery receipts.</summary>
internal sealed class MessengerDb(DbContextOptions<MessengerDb> options) : DbContext(options)
{
    public DbSet<UserRow> Users => Set<UserRow>();

    public DbSet<RoomRow> Rooms => Set<RoomRow>();

    public DbSet<MemberRow> Members => Set<MemberRow>();

    public DbSet<MessageRow> Messages => Set<MessageRow>();

    public DbSet<DeliveryRow> Deliveries => Set<DeliveryRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<UserRow>(e =>
        {
            e.ToTable("Users");
            e.HasKey(u => u.UserName);
        });
        modelBuilder.Entity<RoomRow>(e =>
        {
            e.ToTable("Rooms");
            e.HasKey(r => r.Name);
            e.HasMany(r => r.Members).WithOne().HasForeignKey(m => m.Room).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<MemberRow>(e =>
        {
            e.ToTable("Members");
            e.HasKey(m => new { m.Room, m.UserName });
        });
        modelBuilder.Entity<MessageRow>(e =>
        {
            e.ToTable("Messages");
            e.HasKey(m => m.Id);
            e.HasIndex(m => new { m.Room, m.Id });
            e.HasMany(m => m.Deliveries).WithOne().HasForeignKey(d => d.MessageId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<DeliveryRow>(e =>
        {
            e.ToTable("Deliveries");
            e.HasKey(d => new { d.MessageId, d.UserName });
        });
    }
}
